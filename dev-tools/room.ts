/**
 * Test-side MUC helpers: an observer that joins a room like a human admin's client would and records what the
 * bot says there, plus a small bot-config builder for the harness.
 */
import xml from '@xmpp/xml';
import type { Client, Element } from './clients.js';
import { nextStanza, withTimeout } from './clients.js';
import { parseConfig, type Config } from '../src/core/config.js';

const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = 'http://jabber.org/protocol/muc#user';

export interface RoomObserver {
  room: string;
  /** Every groupchat body seen (live, not history), with the sender nick. */
  messages: Array<{ nick: string; body: string }>;
  /** Occupant nick → real JID (when visible) seen in presences. */
  occupants: Map<string, string | undefined>;
  /** Resolves with the first message (already seen or future) whose body matches. */
  waitFor(match: (body: string) => boolean, timeoutMs?: number, what?: string): Promise<string>;
  waitForOccupant(nick: string, timeoutMs?: number): Promise<void>;
  say(body: string): Promise<void>;
}

export interface ObserveOptions {
  /** When the room is new: make it non-anonymous (everyone, the bot included, sees real JIDs). Default false. */
  nonAnonymous?: boolean;
}

/** Joins `room` as `nick` (creating and unlocking it when new) and starts recording. */
export async function observeRoom(client: Client, room: string, nick: string, opts: ObserveOptions = {}): Promise<RoomObserver> {
  const messages: RoomObserver['messages'] = [];
  const occupants = new Map<string, string | undefined>();
  const waiters: Array<() => void> = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  client.on('stanza', (el: Element) => {
    const from = String(el.attrs.from ?? '');
    if (!from.toLowerCase().startsWith(`${room.toLowerCase()}/`)) return;
    const fromNick = from.slice(room.length + 1);
    if (el.is('message') && el.attrs.type === 'groupchat' && !el.getChild('delay', 'urn:xmpp:delay')) {
      const body = el.getChildText('body');
      if (body !== null) messages.push({ nick: fromNick, body });
    } else if (el.is('presence')) {
      if (el.attrs.type === 'unavailable') occupants.delete(fromNick);
      else occupants.set(fromNick, el.getChild('x', MUC_USER)?.getChild('item')?.attrs.jid as string | undefined);
    }
    notify();
  });
  const self = nextStanza(client, (el) => el.is('presence') && el.attrs.from === `${room}/${nick}`, 10_000);
  await client.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' }))));
  const presence = await self;
  if (presence.attrs.type === 'error') throw new Error(`cannot join ${room}: ${presence.toString()}`);
  const codes = (presence.getChild('x', MUC_USER)?.getChildren('status') ?? []).map((s) => String(s.attrs.code));
  if (codes.includes('201')) {
    await client.iqCaller.request(
      xml(
        'iq',
        { type: 'set', to: room },
        xml(
          'query',
          { xmlns: `${MUC}#owner` },
          xml(
            'x',
            { xmlns: 'jabber:x:data', type: 'submit' },
            xml('field', { var: 'FORM_TYPE' }, xml('value', {}, `${MUC}#roomconfig`)),
            ...(opts.nonAnonymous ? [xml('field', { var: 'muc#roomconfig_whois' }, xml('value', {}, 'anyone'))] : []),
          ),
        ),
      ),
    );
  }
  const until = (check: () => boolean, timeoutMs: number, what: string) =>
    withTimeout(
      new Promise<void>((resolve) => {
        const poll = () => (check() ? resolve() : waiters.push(poll));
        poll();
      }),
      timeoutMs,
      what,
    );
  return {
    room,
    messages,
    occupants,
    async waitFor(match, timeoutMs = 8_000, what = 'a matching room message') {
      let found: string | undefined;
      await until(
        () => {
          found = messages.find((m) => match(m.body))?.body;
          return found !== undefined;
        },
        timeoutMs,
        `${what} in ${room}`,
      ).catch((err: Error) => {
        // What was seen is read at the time of failure, not when the wait began.
        throw new Error(`${err.message}; seen: ${JSON.stringify(messages.map((m) => m.body.slice(0, 80)))}`);
      });
      return found!;
    },
    waitForOccupant(occupantNick, timeoutMs = 8_000) {
      return until(() => occupants.has(occupantNick), timeoutMs, `${occupantNick} in ${room}`);
    },
    async say(body) {
      await client.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, body)));
    },
  };
}

export interface BotConfigInput {
  service: string;
  domain: string;
  username: string;
  password: string;
  storagePath: string;
  defaultRoom: string;
  allow?: string[];
  /** More operators rooms (`rooms.operators`). */
  operators?: string[];
  maxJoined?: number;
  admins?: string[];
  peers?: Array<{ jid: string; trust?: 'trusted' | 'untrusted'; format?: 'iodef' | 'legacy' }>;
  untrusted?: 'flag' | 'reject';
  nick?: string;
}

/** The JSON a bot.config.json for the harness would hold. */
export function botConfigJson(input: BotConfigInput): Record<string, unknown> {
  return {
    xmpp: { service: input.service, domain: input.domain, username: input.username, password: input.password, resource: 'bot' },
    nick: input.nick ?? 'incident-bot',
    rooms: {
      default: input.defaultRoom,
      allow: input.allow ?? [],
      ...(input.operators ? { operators: input.operators } : {}),
      ...(input.maxJoined ? { maxJoined: input.maxJoined } : {}),
    },
    admins: input.admins ?? [],
    peers: input.peers ?? [],
    untrusted: input.untrusted ?? 'flag',
    storage: { path: input.storagePath },
  };
}

export function botConfig(input: BotConfigInput): Config {
  return parseConfig(botConfigJson(input));
}
