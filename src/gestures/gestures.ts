/**
 * Replies (XEP-0461) and reactions (XEP-0444) to announcements in a room, as commands about the announced incident.
 *
 * The bot tags each announcement of a single incident with its own message id (and origin-id). When the room
 * reflects it back with the stanza-id it archived it under (XEP-0359, MUC MAM), both ids are remembered for that
 * incident (AnnouncementIndex). A reply or reaction naming one of them then becomes the text command it stands for
 * (gesture-text.ts) and goes through the same dispatcher, rights and workflow as a typed line. Whoever may not act
 * is told so privately (a private message through the room), not in front of everyone.
 */
import { randomUUID } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { isOperatorsRoom, mayAct } from '../core/rights.js';
import { bareJid } from '../protocol/validate.js';
import type { Sender, TriageServices } from '../triage/context.js';
import { dispatch } from '../triage/dispatch.js';
import type { Announcer } from '../xmpp/announcer.js';
import type { Client } from '../xmpp/connection.js';
import { MUC_USER_NS, type Rooms } from '../xmpp/rooms.js';
import type { AnnouncementIndex } from './announcement-index.js';
import { reactionCommandText, replyCommandText } from './gesture-text.js';
import { bodyWithoutReplyFallback, ownIdsOf, reactionsOf, replyTarget, stanzaIdBy, REACTIONS_NS, REPLY_NS } from './stanzas.js';

export interface GestureDeps {
  xmpp: Client;
  config: Config;
  rooms: Rooms;
  announcer: Announcer;
  services: TriageServices;
  index: AnnouncementIndex;
  log: Logger;
}

/** Recent announcement ids kept in memory too (their index write may still be under way): a small bound is plenty. */
const MAX_RECENT = 1000;

/** A room message the chat router leaves to this module: a reply or a reaction. */
export function isRoomGesture(stanza: Element): boolean {
  return stanza.attrs.type === 'groupchat' && (stanza.getChild('reply', REPLY_NS) !== undefined || stanza.getChild('reactions', REACTIONS_NS) !== undefined);
}

export class Gestures {
  /** "room\nid" → #N for the latest announcements: what a reply arriving before the index write completes needs. */
  private readonly recent = new Map<string, number>();

  constructor(private readonly deps: GestureDeps) {
    deps.xmpp.on('stanza', (stanza: Element) => {
      if (!stanza.is('message') || stanza.attrs.type !== 'groupchat') return;
      this.onRoomMessage(stanza).catch((err: Error) => deps.log.error({ err: err.message }, 'gesture handling failed'));
    });
  }

  /** The message id to send an announcement of incident #number with (see Announcer.tagLine). */
  tag(room: string, number: number): string {
    const id = `incident-${number}-${randomUUID()}`;
    this.keepRecent(room, id, number);
    // Remembered at once too: in a room without stanza-ids, clients reply to this id.
    this.deps.index.remember(room, [id], number).catch((err: Error) => this.deps.log.warn({ err: err.message }, 'announcement id not remembered'));
    return id;
  }

  /** The incident a message of a room announced, if it did. */
  announced(room: string, id: string): number | undefined {
    return this.recent.get(`${bareJid(room)}\n${id}`) ?? this.deps.index.lookup(room, id);
  }

  private keepRecent(room: string, id: string, number: number): void {
    this.recent.set(`${bareJid(room)}\n${id}`, number);
    if (this.recent.size > MAX_RECENT) this.recent.delete(this.recent.keys().next().value as string);
  }

  private async onRoomMessage(stanza: Element): Promise<void> {
    const { rooms } = this.deps;
    const from = String(stanza.attrs.from ?? '');
    const room = bareJid(from);
    if (!rooms.isJoined(room)) return;
    const nick = from.includes('/') ? from.slice(from.indexOf('/') + 1) : undefined;
    if (nick !== undefined && nick === rooms.nickIn(room)) {
      await this.onOwnEcho(room, stanza);
      return;
    }
    if (nick === undefined || rooms.isNoise(stanza)) return;
    // A correction (XEP-0308) of a reply already run is never run again (src/xmpp/chat.ts says so).
    if (stanza.getChild('replace', 'urn:xmpp:message-correct:0')) return;
    const target = replyTarget(stanza);
    if (target !== undefined) {
      const body = stanza.getChildText('body');
      if (body === null) return;
      const text = bodyWithoutReplyFallback(stanza, body);
      const number = this.announced(room, target);
      if (number === undefined) {
        // A reply to something else: an ordinary line once the quote is taken off.
        await this.run(room, nick, text, 'room');
        return;
      }
      await this.run(room, nick, replyCommandText(text, number, this.deps.services.commands), 'gesture');
      return;
    }
    const reactions = reactionsOf(stanza);
    if (reactions && this.deps.config.gestures.reactions) {
      const number = this.announced(room, reactions.id);
      if (number === undefined) return;
      const text = reactionCommandText(reactions.emojis, number);
      if (text !== undefined) await this.run(room, nick, text, 'gesture');
    }
  }

  /** The room's echo of an announcement we tagged: remember the stanza-id the room archived it under. */
  private async onOwnEcho(room: string, stanza: Element): Promise<void> {
    const ids = ownIdsOf(stanza);
    const number = ids.map((id) => this.recent.get(`${room}\n${id}`)).find((n) => n !== undefined);
    if (number === undefined) return;
    const stanzaId = stanzaIdBy(stanza, room);
    if (stanzaId === undefined) return;
    this.keepRecent(room, stanzaId, number);
    // A failed write (a full disk) only costs addressability after a restart: the recent ids are in memory.
    await this.deps.index.remember(room, [stanzaId, ...ids], number).catch((err: Error) => this.deps.log.warn({ err: err.message }, 'announcement id not remembered'));
  }

  /**
   * Runs a line as if typed in the room by that occupant. For a gesture, a refusal goes to the occupant alone
   * (a private message through the room); what a command says when it runs goes to the room, as for a typed one.
   */
  private async run(room: string, nick: string, text: string, kind: 'room' | 'gesture'): Promise<void> {
    const { config, rooms, announcer, services, log } = this.deps;
    const occupant = rooms.occupant(room, nick);
    const jid = occupant?.jid ? bareJid(occupant.jid) : undefined;
    const sender: Sender = { nick, isAdmin: mayAct(config, jid, { room, ...(occupant ? { affiliation: occupant.affiliation } : {}) }), ...(jid ? { jid } : {}) };
    const said: string[] = [];
    const result = await dispatch(
      { text, where: { kind: 'room', room, operators: isOperatorsRoom(config, room) }, sender, reply: (line) => said.push(line) },
      services,
      (err) => log.error({ err: (err as Error).message, room, nick }, 'command failed'),
    );
    if (kind === 'gesture' && result === 'refused') {
      for (const line of said) this.tellPrivately(room, nick, line);
      return;
    }
    for (const line of said) announcer.say(room, line);
  }

  private tellPrivately(room: string, nick: string, text: string): void {
    const to = `${room}/${nick}`;
    this.deps.xmpp
      .send(xml('message', { to, type: 'chat' }, xml('body', {}, text), xml('x', { xmlns: MUC_USER_NS })))
      .catch((err: Error) => this.deps.log.warn({ to, err: err.message }, 'private refusal not sent'));
  }
}
