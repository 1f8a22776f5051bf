/**
 * Rooms joined only because a trusted report named them: places to announce, nothing more (they give nobody any
 * right, see src/core/rights.ts). Bounded so that reports cannot make the bot sit in rooms without end: at most
 * `rooms.maxJoined` at once, the least recently used left first, and a room with no incident announced in it for
 * `rooms.idleLeaveHours` is left. Operators rooms are never counted here and never left.
 * Recency is on the monotonic clock: a wall clock stepped forward must not empty the bot's rooms.
 *
 * Nothing waiting for a room is lost when it is left: its lines go to the default room. A room the bot cannot join
 * is forgotten at once (not kept to be rejoined after a reconnect outside the count); when someone there holds the
 * bot's nick, the admins are told by direct message (once per room), since the bot never takes a look-alike nick.
 */
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { monotonicNow } from '../core/clock.js';
import { line } from '../core/flat-text.js';
import { bareJid } from '../protocol/validate.js';
import { RoomJoinError, type Rooms } from './rooms.js';

export interface ReportRoomsDeps {
  rooms: Rooms;
  config: Config;
  log: Logger;
  /** Lines waiting for a room (the announcer's queue). */
  waiting(room: string): number;
  /** Hands the lines waiting for a room the bot leaves to another one. */
  moveWaiting(from: string, to: string): void;
  /** A direct message to every configured admin. */
  tellAdmins(text: string): void;
}

export interface ReportRoomsOptions {
  /** How often idle rooms are looked for (defaults to a tenth of the idle time, at most an hour). */
  sweepEveryMs?: number;
  now?: () => number;
}

export class ReportRooms {
  /** Room → when an incident was last announced in it. Map order is recency order (least recent first). */
  private readonly lastUsed = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  /** Rooms whose nick holder the admins were told about (once per room per run). */
  private readonly toldNickHeld = new Set<string>();

  constructor(
    private readonly deps: ReportRoomsDeps,
    opts: ReportRoomsOptions = {},
  ) {
    this.now = opts.now ?? monotonicNow;
    const idleMs = this.idleMs();
    this.timer = setInterval(() => void this.leaveIdle(), opts.sweepEveryMs ?? Math.min(idleMs / 10, 300_000));
    this.timer.unref();
    // Kicked or the room destroyed: it no longer counts, is not rejoined, and what waited for it goes elsewhere.
    deps.rooms.onLeft((room) => {
      if (!this.lastUsed.delete(room)) return;
      deps.moveWaiting(room, deps.config.rooms.default);
      void deps.rooms.leave(room);
    });
  }

  /** Joins `room` to announce in it (leaving the least recently used one if at the limit); throws if it cannot. */
  async use(room: string): Promise<string> {
    const key = bareJid(room);
    const known = this.lastUsed.has(key);
    if (!known) {
      while (this.lastUsed.size >= this.deps.config.rooms.maxJoined) {
        const oldest = this.lastUsed.keys().next().value as string;
        await this.leave(oldest, `at most rooms.maxJoined (${this.deps.config.rooms.maxJoined}) report rooms at once`);
      }
    }
    this.lastUsed.delete(key);
    this.lastUsed.set(key, this.now());
    // In it, joining, or out of it only while the stream is down (the rooms rejoin by themselves after a
    // reconnect): the line waits for it. Only a failed join is tried again here.
    if (known && this.deps.rooms.lastJoinError(key) === undefined) return key;
    try {
      await this.deps.rooms.join(key);
    } catch (err) {
      this.lastUsed.delete(key);
      // Forgotten, or it would be rejoined after every reconnect without counting against rooms.maxJoined.
      await this.deps.rooms.leave(key);
      this.deps.moveWaiting(key, this.deps.config.rooms.default);
      if (err instanceof RoomJoinError && err.condition === 'conflict') this.nickHeld(key);
      throw err;
    }
    return key;
  }

  /** The report rooms the bot is in (or joining), least recently used first. */
  list(): string[] {
    return [...this.lastUsed.keys()];
  }

  /** Leaves every room idle for longer than `rooms.idleLeaveHours`, and every room whose rejoin (after a
   * reconnect) failed: what waits for it is said in the default room rather than held for a day. */
  async leaveIdle(): Promise<void> {
    const limit = this.now() - this.idleMs();
    for (const [room, at] of [...this.lastUsed]) {
      const rejoinFailed = this.deps.rooms.lastJoinError(room);
      if (rejoinFailed !== undefined && !this.deps.rooms.isJoined(room)) {
        await this.leave(room, `cannot rejoin: ${rejoinFailed}`);
        continue;
      }
      // Lines still waiting keep a room we are in; one we are out of (its rejoin failed) is left, its lines moved.
      const holds = this.deps.waiting(room) > 0 && this.deps.rooms.isJoined(room);
      if (at <= limit && !holds) await this.leave(room, `no incident for ${this.deps.config.rooms.idleLeaveHours} h`);
    }
  }

  /** Leaves the rooms `allowed` now refuses (a config reload narrowed `rooms.allow`); returns them. */
  async leaveDisallowed(allowed: (room: string) => boolean): Promise<string[]> {
    const refused = this.list().filter((room) => !allowed(room));
    for (const room of refused) await this.leave(room, 'no longer allowed by rooms.allow');
    return refused;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private idleMs(): number {
    return this.deps.config.rooms.idleLeaveHours * 3_600_000;
  }

  private async leave(room: string, why: string): Promise<void> {
    this.lastUsed.delete(room);
    this.deps.log.info({ room, why }, 'leaving a report room');
    this.deps.moveWaiting(room, this.deps.config.rooms.default);
    await this.deps.rooms.leave(room);
  }

  private nickHeld(room: string): void {
    if (this.toldNickHeld.has(room)) return;
    this.toldNickHeld.add(room);
    const { nick, rooms } = this.deps.config;
    this.deps.log.warn({ room, nick }, 'someone holds our nick in a room a report names: not announcing there');
    this.deps.tellAdmins(
      line`A report names the room ${room}, but someone there uses my nick ${nick}. I do not announce under another nick, since they would go on speaking as me: its incidents are announced in ${bareJid(rooms.default)} instead.`,
    );
  }
}
