/**
 * MUC by hand (XEP-0045): joining, creating (unlocking) rooms, tracking occupants and their real JIDs, and
 * rejoining every room after a reconnect (the server forgets our membership when the stream drops).
 */
import xml, { type Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Client } from './connection.js';
import { bareJid } from '../protocol/validate.js';

export const MUC_NS = 'http://jabber.org/protocol/muc';
export const MUC_USER_NS = 'http://jabber.org/protocol/muc#user';
export const MUC_OWNER_NS = 'http://jabber.org/protocol/muc#owner';
const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export interface Occupant {
  nick: string;
  /** The occupant's real full JID, when the room shows it to us. */
  jid?: string;
  affiliation: string;
  role: string;
}

interface RoomState {
  nick: string;
  joined: boolean;
  occupants: Map<string, Occupant>;
  pending?: { resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout };
}

export class RoomJoinError extends Error {}

export class Rooms {
  private readonly rooms = new Map<string, RoomState>();

  constructor(
    private readonly xmpp: Client,
    private readonly nick: string,
    private readonly log: Logger,
  ) {
    xmpp.on('stanza', (stanza: Element) => {
      if (stanza.is('presence')) this.onPresence(stanza);
    });
    // Membership is lost with the stream: rejoin everything after every reconnect.
    xmpp.on('online', () => {
      for (const room of this.rooms.keys()) {
        const state = this.rooms.get(room)!;
        state.joined = false;
        state.occupants.clear();
        void this.joinWithRetry(room);
      }
    });
  }

  /** Rooms we are in (or trying to be in). */
  list(): string[] {
    return [...this.rooms.keys()];
  }

  isJoined(room: string): boolean {
    return this.rooms.get(bareJid(room))?.joined ?? false;
  }

  /** Joins a room (creating and unlocking it if it does not exist); resolves once our self-presence arrives. */
  async join(room: string, timeoutMs = 10_000): Promise<void> {
    const key = bareJid(room);
    let state = this.rooms.get(key);
    if (state?.joined) return;
    if (!state) {
      state = { nick: this.nick, joined: false, occupants: new Map() };
      this.rooms.set(key, state);
    }
    if (state.pending) return this.waitFor(state);
    const done = this.waitFor(state, timeoutMs, key);
    try {
      await this.xmpp.send(
        xml('presence', { to: `${key}/${state.nick}` }, xml('x', { xmlns: MUC_NS }, xml('history', { maxstanzas: '0' }))),
      );
    } catch (err) {
      // Settle now: left pending, the join would reject at its timeout with nobody listening.
      this.settle(state, err as Error);
    }
    return done;
  }

  /**
   * Joins, retrying with backoff: right after a server restart the room may not exist yet, or another occupant
   * may have just created it and not yet unlocked it (item-not-found meanwhile).
   */
  async joinWithRetry(room: string, attempts = 6): Promise<boolean> {
    let delay = 250;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        await this.join(room);
        return true;
      } catch (err) {
        this.log.warn({ room, attempt, err: (err as Error).message }, 'join failed');
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
    return false;
  }

  /** Leaves every room (clean shutdown). */
  async leaveAll(): Promise<void> {
    for (const [room, state] of this.rooms) {
      if (state.joined) await this.xmpp.send(xml('presence', { to: `${room}/${state.nick}`, type: 'unavailable' })).catch(() => undefined);
      state.joined = false;
    }
  }

  async send(room: string, body: string): Promise<void> {
    await this.xmpp.send(xml('message', { to: bareJid(room), type: 'groupchat' }, xml('body', {}, body)));
  }

  occupant(room: string, nick: string): Occupant | undefined {
    return this.rooms.get(bareJid(room))?.occupants.get(nick);
  }

  /** Whether a real JID is an owner or admin of any room we are in (MUC affiliations, seen in presence). */
  hasAdminAffiliation(jid: string): boolean {
    const wanted = bareJid(jid);
    for (const state of this.rooms.values()) {
      for (const o of state.occupants.values()) {
        if (o.jid && bareJid(o.jid) === wanted && (o.affiliation === 'owner' || o.affiliation === 'admin')) return true;
      }
    }
    return false;
  }

  /** Our own nick in a room (it may differ from the configured one after a nick conflict). */
  nickIn(room: string): string | undefined {
    return this.rooms.get(bareJid(room))?.nick;
  }

  /** True for a groupchat message we should not act on: our own echo, history replay, or a subject change. */
  isNoise(stanza: Element): boolean {
    const from = stanza.attrs.from as string | undefined;
    if (!from) return true;
    const slash = from.indexOf('/');
    const room = bareJid(from);
    const nick = slash === -1 ? undefined : from.slice(slash + 1);
    if (nick === undefined) return true; // from the room itself (subject, status)
    if (nick === this.rooms.get(room)?.nick) return true;
    if (stanza.getChild('delay', 'urn:xmpp:delay')) return true;
    if (stanza.getChild('subject') && !stanza.getChild('body')) return true;
    return false;
  }

  private waitFor(state: RoomState, timeoutMs = 10_000, room = ''): Promise<void> {
    if (state.pending) {
      const existing = state.pending;
      return new Promise((resolve, reject) => {
        const prevResolve = existing.resolve;
        const prevReject = existing.reject;
        existing.resolve = () => (prevResolve(), resolve());
        existing.reject = (err) => (prevReject(err), reject(err));
      });
    }
    return new Promise((resolve, reject) => {
      // Through settle(): it rejects every caller waiting on this join, not only the first one (a second join of
      // the same room chains onto pending.reject; rejecting just this promise left those waiting forever).
      const timer = setTimeout(() => this.settle(state, new RoomJoinError(`joining ${room} timed out`)), timeoutMs);
      state.pending = { resolve, reject, timer };
    });
  }

  private settle(state: RoomState, err?: Error): void {
    const pending = state.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    state.pending = undefined;
    if (err) pending.reject(err);
    else pending.resolve();
  }

  private onPresence(stanza: Element): void {
    const from = stanza.attrs.from as string | undefined;
    if (!from || !from.includes('/')) return;
    const room = bareJid(from);
    const state = this.rooms.get(room);
    if (!state) return;
    const nick = from.slice(from.indexOf('/') + 1);
    const x = stanza.getChild('x', MUC_USER_NS);
    const codes = new Set((x?.getChildren('status') ?? []).map((s) => String(s.attrs.code)));

    if (stanza.attrs.type === 'error') {
      if (nick !== state.nick) return;
      const condition = stanza.getChild('error')?.getChildElements().find((c) => c.getNS() === STANZAS_NS)?.name ?? 'unknown';
      if (condition === 'conflict' && state.nick.length < 60) {
        // Someone holds our nick: take a variant rather than stay out of the room.
        state.nick = `${state.nick}_`;
        void this.xmpp.send(xml('presence', { to: `${room}/${state.nick}` }, xml('x', { xmlns: MUC_NS }, xml('history', { maxstanzas: '0' }))));
        return;
      }
      this.settle(state, new RoomJoinError(`cannot join ${room}: ${condition}`));
      return;
    }

    const item = x?.getChild('item');
    if (stanza.attrs.type === 'unavailable') {
      state.occupants.delete(nick);
      if (codes.has('110')) state.joined = false;
      return;
    }
    state.occupants.set(nick, {
      nick,
      ...(item?.attrs.jid ? { jid: String(item.attrs.jid) } : {}),
      affiliation: String(item?.attrs.affiliation ?? 'none'),
      role: String(item?.attrs.role ?? 'participant'),
    });
    if (codes.has('110') || nick === state.nick) {
      const created = codes.has('201');
      state.joined = true;
      if (created) {
        this.unlock(room)
          .then(() => this.settle(state))
          .catch((err: Error) => this.settle(state, err));
      } else {
        this.settle(state);
      }
    }
  }

  /** A new room stays locked until its owner submits a configuration: accept the defaults (instant room). */
  private async unlock(room: string): Promise<void> {
    await this.xmpp.iqCaller.request(
      xml('iq', { type: 'set', to: room }, xml('query', { xmlns: MUC_OWNER_NS }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }))),
    );
    this.log.info({ room }, 'created and unlocked room');
  }
}
