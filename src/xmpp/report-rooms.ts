/**
 * Rooms joined only because a trusted report named them: places to announce, nothing more (they give nobody any
 * right, see src/core/rights.ts). Bounded so that reports cannot make the bot sit in rooms without end: at most
 * `rooms.maxJoined` at once, the least recently used left first, and a room with no incident announced in it for
 * `rooms.idleLeaveHours` is left. Operators rooms are never counted here and never left.
 * Recency is on the monotonic clock: a wall clock stepped forward must not empty the bot's rooms.
 */
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { monotonicNow } from '../core/clock.js';
import { bareJid } from '../protocol/validate.js';
import type { Rooms } from './rooms.js';

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

  constructor(
    private readonly deps: { rooms: Rooms; config: Config; log: Logger; waiting(room: string): number },
    opts: ReportRoomsOptions = {},
  ) {
    this.now = opts.now ?? monotonicNow;
    const idleMs = this.idleMs();
    this.timer = setInterval(() => void this.leaveIdle(), opts.sweepEveryMs ?? Math.min(idleMs / 10, 3_600_000));
    this.timer.unref();
    // Kicked or the room destroyed: it no longer counts.
    deps.rooms.onLeft((room) => this.lastUsed.delete(room));
  }

  /** Joins `room` to announce in it (leaving the least recently used one if at the limit); throws if it cannot. */
  async use(room: string): Promise<string> {
    const key = bareJid(room);
    if (!this.lastUsed.has(key)) {
      while (this.lastUsed.size >= this.deps.config.rooms.maxJoined) {
        const oldest = this.lastUsed.keys().next().value as string;
        await this.leave(oldest, `at most rooms.maxJoined (${this.deps.config.rooms.maxJoined}) report rooms at once`);
      }
    }
    this.lastUsed.delete(key);
    this.lastUsed.set(key, this.now());
    try {
      await this.deps.rooms.join(key);
    } catch (err) {
      this.lastUsed.delete(key);
      throw err;
    }
    return key;
  }

  /** The report rooms the bot is in (or joining), least recently used first. */
  list(): string[] {
    return [...this.lastUsed.keys()];
  }

  /** Leaves every room idle for longer than `rooms.idleLeaveHours`. */
  async leaveIdle(): Promise<void> {
    const limit = this.now() - this.idleMs();
    for (const [room, at] of [...this.lastUsed]) {
      if (at <= limit && this.deps.waiting(room) === 0) await this.leave(room, `no incident for ${this.deps.config.rooms.idleLeaveHours} h`);
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
    await this.deps.rooms.leave(room);
  }
}
