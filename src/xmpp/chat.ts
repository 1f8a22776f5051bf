/**
 * Chat routing: room lines and direct messages become commands. The sender is identified by their real JID —
 * from the room's presence (MUC shows it to the bot when the room is non-anonymous or the bot moderates), or the
 * stanza's `from` in a direct message — never by nick.
 */
import xml, { type Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { bareJid } from '../protocol/validate.js';
import { LEGACY_NS } from '../protocol/legacy.js';
import type { Sender, TriageServices } from '../triage/context.js';
import { dispatch } from '../triage/dispatch.js';
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

export function routeChat(deps: ChatDeps): void {
  deps.xmpp.on('stanza', (stanza: Element) => {
    if (!stanza.is('message') || stanza.attrs.type === 'error') return;
    const body = stanza.getChildText('body');
    if (body === null || stanza.getChild('incident', LEGACY_NS)) return;
    const handled = stanza.attrs.type === 'groupchat' ? onRoomLine(deps, stanza, body) : onDirect(deps, stanza, body);
    handled.catch((err: Error) => deps.log.error({ err: err.message }, 'command handling failed'));
  });
}

async function onRoomLine(deps: ChatDeps, stanza: Element, body: string): Promise<void> {
  const { rooms, announcer } = deps;
  if (rooms.isNoise(stanza)) return; // our echo, history replay, subject
  const from = String(stanza.attrs.from);
  const room = bareJid(from);
  if (!rooms.isJoined(room)) return;
  const nick = from.slice(from.indexOf('/') + 1);
  const occupant = rooms.occupant(room, nick);
  const jid = occupant?.jid ? bareJid(occupant.jid) : undefined;
  const isAdmin =
    jid !== undefined && (isConfiguredAdmin(deps.config, jid) || occupant?.affiliation === 'owner' || occupant?.affiliation === 'admin');
  const sender: Sender = { nick, isAdmin, ...(jid ? { jid } : {}) };
  await dispatch(
    { text: body, where: { kind: 'room', room }, sender, reply: (text) => announcer.say(room, text) },
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
  if (deps.rooms.isJoined(roomOfSender)) {
    // A private message through a room: the real JID is what the room tells us, if anything.
    const occupant = deps.rooms.occupant(roomOfSender, from.slice(from.indexOf('/') + 1));
    jid = occupant?.jid ? bareJid(occupant.jid) : undefined;
  }
  const isAdmin = jid !== undefined && (isConfiguredAdmin(deps.config, jid) || deps.rooms.hasAdminAffiliation(jid));
  const sender: Sender = { isAdmin, ...(jid ? { jid } : {}) };
  const reply = (text: string) => {
    void deps.xmpp.send(xml('message', { to: from, type: 'chat' }, xml('body', {}, text)));
  };
  await dispatch({ text: body, where: { kind: 'dm', from }, sender, reply }, deps.services, (err) =>
    deps.log.error({ err: (err as Error).message, from }, 'command failed'),
  );
}

function isConfiguredAdmin(config: Config, jid: string): boolean {
  return config.admins.some((a) => bareJid(a) === jid);
}
