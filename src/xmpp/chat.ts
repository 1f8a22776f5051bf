/**
 * Chat routing: room lines and direct messages become commands. The sender is identified by their real JID —
 * from the room's presence (MUC shows it to the bot when the room is non-anonymous or the bot moderates), or the
 * stanza's `from` in a direct message — never by nick.
 */
import xml, { type Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { isOperatorsRoom, mayAct, noRightsHere } from '../core/rights.js';
import { monotonicNow } from '../core/clock.js';
import { bareJid } from '../protocol/validate.js';
import { LEGACY_NS } from '../protocol/legacy.js';
import type { Sender, TriageServices } from '../triage/context.js';
import { dispatch } from '../triage/dispatch.js';
import { isRoomGesture } from '../gestures/gestures.js';
import type { Announcer } from './announcer.js';
import type { Client } from './connection.js';
import type { Rooms } from './rooms.js';

export interface ChatDeps {
  xmpp: Client;
  config: Config;
  rooms: Rooms;
  announcer: Announcer;
  services: TriageServices;
  log: Logger;
}

/** How often one person is told, in one room, that it gives no rights: a squatter typing commands in their own
 * room must not be able to make the bot talk without end. `!help` there still says it every time. */
const NO_RIGHTS_EVERY_MS = 10 * 60_000;
const NO_RIGHTS_REMEMBERED = 1000;
type NoRightsThrottle = (room: string, who: string) => boolean;

function noRightsThrottle(): NoRightsThrottle {
  /** "room\nwho" → when they were last told (oldest first). */
  const told = new Map<string, number>();
  return (room, who) => {
    const key = `${room}\n${who}`;
    const now = monotonicNow();
    const last = told.get(key);
    if (last !== undefined && now - last < NO_RIGHTS_EVERY_MS) return false;
    told.delete(key);
    told.set(key, now);
    if (told.size > NO_RIGHTS_REMEMBERED) told.delete(told.keys().next().value as string);
    return true;
  };
}

const CORRECTION_NS = 'urn:xmpp:message-correct:0';

export function routeChat(deps: ChatDeps): void {
  const shouldTellNoRights = noRightsThrottle();
  /** Who was told that edits are not executed (room/nick or JID): told once. */
  const toldAboutEdits = new Set<string>();
  deps.xmpp.on('stanza', (stanza: Element) => {
    if (!stanza.is('message') || stanza.attrs.type === 'error') return;
    const body = stanza.getChildText('body');
    if (body === null || stanza.getChild('incident', LEGACY_NS)) return;
    // A correction (XEP-0308) of a command already run would run it again (two notes, two revisions): never.
    if (stanza.getChild('replace', CORRECTION_NS)) {
      onCorrection(deps, stanza, body, toldAboutEdits);
      return;
    }
    if (isRoomGesture(stanza)) return; // replies and reactions: src/gestures
    const handled = stanza.attrs.type === 'groupchat' ? onRoomLine(deps, stanza, body, shouldTellNoRights) : onDirect(deps, stanza, body);
    handled.catch((err: Error) => deps.log.error({ err: err.message }, 'command handling failed'));
  });
}

async function onRoomLine(deps: ChatDeps, stanza: Element, body: string, shouldTellNoRights: NoRightsThrottle): Promise<void> {
  const { rooms, announcer } = deps;
  if (rooms.isNoise(stanza)) return; // our echo, history replay, subject
  const from = String(stanza.attrs.from);
  const room = bareJid(from);
  if (!rooms.isJoined(room)) return;
  const nick = from.slice(from.indexOf('/') + 1);
  const occupant = rooms.occupant(room, nick);
  const jid = occupant?.jid ? bareJid(occupant.jid) : undefined;
  const isAdmin = mayAct(deps.config, jid, { room, ...(occupant ? { affiliation: occupant.affiliation } : {}) });
  const sender: Sender = { nick, isAdmin, ...(jid ? { jid } : {}) };
  await dispatch(
    {
      text: body,
      where: { kind: 'room', room, operators: isOperatorsRoom(deps.config, room) },
      sender,
      reply: (text) => {
        if (text === noRightsHere(deps.config, room) && !shouldTellNoRights(room, jid ?? `nick ${nick}`)) return;
        announcer.say(room, text);
      },
    },
    deps.services,
    (err) => deps.log.error({ err: (err as Error).message, room, nick }, 'command failed'),
  );
}

async function onDirect(deps: ChatDeps, stanza: Element, body: string): Promise<void> {
  const from = stanza.attrs.from as string | undefined;
  if (!from) return;
  // Messages stored offline while the bot was away are stale orders: do not act on them.
  if (stanza.getChild('delay', 'urn:xmpp:delay')) {
    deps.log.info({ from }, 'ignoring a delayed direct message');
    return;
  }
  const roomOfSender = bareJid(from);
  let jid: string | undefined = bareJid(from);
  const reply = (text: string) => {
    deps.xmpp
      .send(xml('message', { to: from, type: 'chat' }, xml('body', {}, text)))
      .catch((err: Error) => deps.log.warn({ to: from, err: err.message }, 'reply not sent'));
  };
  if (deps.rooms.isJoined(roomOfSender)) {
    // A private message through a room: the real JID is what the room tells us, if anything.
    const occupant = deps.rooms.occupant(roomOfSender, from.slice(from.indexOf('/') + 1));
    jid = occupant?.jid ? bareJid(occupant.jid) : undefined;
    if (jid === undefined) {
      reply(roomPmWithoutJid(deps.config, roomOfSender));
      return;
    }
  }
  // Direct messages (and private messages through a room): configured admins only, whatever their affiliations.
  const isAdmin = mayAct(deps.config, jid);
  const sender: Sender = { isAdmin, jid };
  await dispatch({ text: body, where: { kind: 'dm', from }, sender, reply }, deps.services, (err) =>
    deps.log.error({ err: (err as Error).message, from }, 'command failed'),
  );
}

function onCorrection(deps: ChatDeps, stanza: Element, body: string, told: Set<string>): void {
  const from = String(stanza.attrs.from ?? '');
  const inRoom = stanza.attrs.type === 'groupchat';
  if (inRoom && (deps.rooms.isNoise(stanza) || !body.trim().startsWith('!'))) return;
  if (!inRoom && !mayAct(deps.config, from)) return;
  if (told.has(from)) return;
  told.add(from);
  const text = `Edited messages are not executed (the command would run twice): send the corrected command as a new message.`;
  if (inRoom) deps.announcer.say(bareJid(from), text);
  else
    deps.xmpp
      .send(xml('message', { to: from, type: 'chat' }, xml('body', {}, text)))
      .catch((err: Error) => deps.log.warn({ to: from, err: err.message }, 'reply not sent'));
}

/** Said to a private message through a room that hides real JIDs from the bot: whoever sent it, it cannot tell. */
function roomPmWithoutJid(config: Config, room: string): string {
  const bot = `${config.xmpp.username}@${config.xmpp.domain}`;
  return (
    `I cannot see the real JID behind a private message through ${room}: the room hides real JIDs from me ` +
    `(semi-anonymous), so I cannot check that you are an admin. Send me a direct message from your own account ` +
    `(to ${bot}), or make the room non-anonymous (or make me a moderator there), and try again.`
  );
}
