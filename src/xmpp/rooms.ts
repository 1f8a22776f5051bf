/**
 * MUC by hand (XEP-0045): joining, creating (unlocking) rooms, tracking occupants and their real JIDs, and
 * rejoining every room after a reconnect (the server forgets our membership when the stream drops).
 *
 * What the bot knows of occupants' real JIDs is refreshed when the room says it changed: a room made non-anonymous
 * (or anonymous) while we are in it announces that only with a status 172/173/174 message, and promoting us to
 * moderator changes only our own presence (ejabberd); neither resends the occupants' presences. Both servers do
 * resend every occupant's presence — with the real JIDs we may now see — when an occupant sends its join presence
 * again without leaving, so that is how we resync: nobody sees us leave, and a moderator role granted to us alone
 * (not by affiliation) is kept, which a leave and rejoin would lose.
 */
import xml, { type Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Client } from './connection.js';
import { bareJid } from '../protocol/validate.js';
import { MUC_NS, MUC_OWNER_NS, MUC_USER_NS, PRIVACY_CHANGED, RoomJoinError, STANZAS_NS, type Occupant } from './muc.js';

export { MUC_NS, MUC_OWNER_NS, MUC_USER_NS, RoomJoinError, type Occupant } from './muc.js';

interface RoomState {
  nick: string;
  joined: boolean;
  occupants: Map<string, Occupant>;
  /** Our role as the room last told us (a change to moderator lets us see real JIDs). */
  role?: string;
  /** Why the last attempt to join failed; cleared once we are in. */
  lastError?: string;
  /** A join waiting for our self-presence, and the stream it was sent on. */
  pending?: { resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout; stream: number };
}

export class Rooms {
  private readonly rooms = new Map<string, RoomState>();
  /** Counts streams: a join sent on an earlier stream died with it. */
  private stream = 0;
  private readonly leftListeners: Array<(room: string) => void> = [];
  private readonly joinedListeners: Array<(room: string) => void> = [];

  constructor(
    private readonly xmpp: Client,
    private readonly nick: string,
    private readonly log: Logger,
  ) {
    xmpp.on('stanza', (stanza: Element) => {
      if (stanza.is('presence')) this.onPresence(stanza);
      else if (stanza.is('message') && stanza.attrs.type === 'groupchat') this.onRoomStatus(stanza);
    });
    // Membership is lost with the stream: rejoin everything after every reconnect. A join still waiting from the
    // dropped stream will never be answered: join() sends it again on this one (its waiters keep waiting).
    // Out of every room the moment the stream drops (not only once it is back): what is said meanwhile must wait.
    xmpp.on('disconnect', () => {
      for (const state of this.rooms.values()) state.joined = false;
    });
    xmpp.on('online', () => {
      this.stream += 1;
      for (const room of this.rooms.keys()) {
        const state = this.rooms.get(room)!;
        state.joined = false;
        state.occupants.clear();
        state.role = undefined;
        void this.joinWithRetry(room);
      }
    });
  }

  /** Called with the room's JID when we are out of a room we did not leave (kicked, room destroyed, shut down). */
  onLeft(listener: (room: string) => void): void {
    this.leftListeners.push(listener);
  }

  /** Why the last attempt to join `room` failed (e.g. `registration-required (Membership is required…)`), or
   * undefined if it did not, or we are in. */
  lastJoinError(room: string): string | undefined {
    return this.rooms.get(bareJid(room))?.lastError;
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
    if (state.pending?.stream === this.stream) return this.waitFor(state);
    const done = this.waitFor(state, timeoutMs, key);
    // The room may refuse us before send() resolves (ejabberd answers at once): `done` must have a handler by then.
    done.catch(() => undefined);
    try {
      await this.sendJoinPresence(key, state);
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
        if (!this.rooms.has(bareJid(room))) return false; // left meanwhile (leave() forgets it): do not bring it back
      }
    }
    return false;
  }

  /** Called with the room's JID each time we are in it (first join, rejoin after a reconnect). */
  onJoined(listener: (room: string) => void): void {
    this.joinedListeners.push(listener);
  }

  /** Leaves one room and forgets it (it is not rejoined after a reconnect). */
  async leave(room: string): Promise<void> {
    const key = bareJid(room);
    const state = this.rooms.get(key);
    if (!state) return;
    this.rooms.delete(key);
    this.settle(state, new RoomJoinError(`left ${key}`));
    if (state.joined) await this.xmpp.send(xml('presence', { to: `${key}/${state.nick}`, type: 'unavailable' })).catch(() => undefined);
  }

  /** Leaves every room (clean shutdown). */
  async leaveAll(): Promise<void> {
    for (const [room, state] of this.rooms) {
      if (state.joined) await this.xmpp.send(xml('presence', { to: `${room}/${state.nick}`, type: 'unavailable' })).catch(() => undefined);
      state.joined = false;
    }
  }

  /** `id`: also sent as the XEP-0359 origin-id, so the room's echo can be matched to what we sent. */
  async send(room: string, body: string, id?: string): Promise<void> {
    const ids = id === undefined ? [] : [xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id })];
    await this.xmpp.send(xml('message', { to: bareJid(room), type: 'groupchat', ...(id === undefined ? {} : { id }) }, xml('body', {}, body), ...ids));
  }

  occupant(room: string, nick: string): Occupant | undefined {
    return this.rooms.get(bareJid(room))?.occupants.get(nick);
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

  private sendJoinPresence(room: string, state: RoomState): Promise<void> {
    return this.xmpp.send(xml('presence', { to: `${room}/${state.nick}` }, xml('x', { xmlns: MUC_NS }, xml('history', { maxstanzas: '0' }))));
  }

  private waitFor(state: RoomState, timeoutMs = 10_000, room = ''): Promise<void> {
    const existing = state.pending;
    if (existing) {
      if (existing.stream !== this.stream) {
        // A join from a dropped stream, sent again now: its waiters wait for this one, with a fresh timeout.
        clearTimeout(existing.timer);
        existing.timer = this.joinTimer(state, timeoutMs, room);
        existing.stream = this.stream;
      }
      return new Promise((resolve, reject) => {
        const prevResolve = existing.resolve;
        const prevReject = existing.reject;
        existing.resolve = () => (prevResolve(), resolve());
        existing.reject = (err) => (prevReject(err), reject(err));
      });
    }
    return new Promise((resolve, reject) => {
      state.pending = { resolve, reject, timer: this.joinTimer(state, timeoutMs, room), stream: this.stream };
    });
  }

  /** Through settle(): it rejects every caller waiting on this join, not only the first one (a second join of the
   * same room chains onto pending.reject; rejecting just this promise left those waiting forever). */
  private joinTimer(state: RoomState, timeoutMs: number, room: string): NodeJS.Timeout {
    return setTimeout(() => this.settle(state, new RoomJoinError(`joining ${room} timed out`)), timeoutMs);
  }

  private settle(state: RoomState, err?: Error): void {
    const pending = state.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    state.pending = undefined;
    state.lastError = err?.message;
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
      const error = stanza.getChild('error');
      const condition = error?.getChildElements().find((c) => c.getNS() === STANZAS_NS && c.name !== 'text')?.name ?? 'unknown';
      // `conflict`: someone holds our nick. We do not take a variant: the holder would go on speaking as the bot
      // (`incident-bot: #999 NEW…`) next to us as `incident-bot_`. The join fails; the caller says so to the admins.
      const text = error?.getChildText('text', STANZAS_NS);
      this.settle(state, new RoomJoinError(`cannot join ${room}: ${condition}${text ? ` (${text})` : ''}`, condition));
      return;
    }

    const item = x?.getChild('item');
    if (stanza.attrs.type === 'unavailable') {
      state.occupants.delete(nick);
      if (codes.has('110') && state.joined) {
        state.joined = false;
        state.role = undefined;
        for (const listener of this.leftListeners) listener(room);
      }
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
      const role = String(item?.attrs.role ?? 'participant');
      const promoted = state.joined && state.role !== undefined && state.role !== 'moderator' && role === 'moderator';
      state.role = role;
      if (promoted) this.resync(room, state, 'we are a moderator now');
      const wasJoined = state.joined;
      state.joined = true;
      // Listeners hear of it once the room can take messages (a room we created is locked until unlocked).
      const joined = () => {
        if (!wasJoined) for (const listener of this.joinedListeners) listener(room);
      };
      if (created) {
        this.unlock(room)
          .then(() => (this.settle(state), joined()))
          .catch((err: Error) => this.settle(state, err));
      } else {
        this.settle(state);
        joined();
      }
    }
  }

  /** A status message from the room itself: on a privacy change, refresh what we know of the occupants. */
  private onRoomStatus(stanza: Element): void {
    const from = stanza.attrs.from as string | undefined;
    if (!from || from.includes('/')) return;
    const state = this.rooms.get(bareJid(from));
    if (!state?.joined) return;
    const codes = (stanza.getChild('x', MUC_USER_NS)?.getChildren('status') ?? []).map((s) => String(s.attrs.code));
    const changed = codes.find((c) => PRIVACY_CHANGED.includes(c));
    if (changed) this.resync(bareJid(from), state, `room privacy changed (status ${changed})`);
  }

  /** Our join presence again, without leaving: the room answers with every occupant's presence (see the top). */
  private resync(room: string, state: RoomState, why: string): void {
    this.log.info({ room, why }, 'refreshing the occupant list');
    this.sendJoinPresence(room, state).catch((err: Error) => this.log.warn({ room, err: err.message }, 'occupant refresh not sent'));
  }

  /** A new room stays locked until its owner submits a configuration: accept the defaults (instant room). */
  private async unlock(room: string): Promise<void> {
    await this.xmpp.iqCaller.request(
      xml('iq', { type: 'set', to: room }, xml('query', { xmlns: MUC_OWNER_NS }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }))),
    );
    this.log.info({ room }, 'created and unlocked room');
  }
}
