/**
 * The bot's voice in rooms: a per-room queue sent at a bounded rate, folding a backlog into summaries
 * (src/core/storm.ts) so a flood of reports never becomes a flood of lines. Nothing is dropped from the store;
 * only the room's view is condensed.
 */
import type { Logger } from 'pino';
import { foldBacklog, type PendingAnnouncement } from '../core/storm.js';
import type { Rooms } from './rooms.js';

export interface AnnouncerOptions {
  /** Minimum gap between two bot messages in one room. */
  intervalMs?: number;
}

export class Announcer {
  private readonly queues = new Map<string, PendingAnnouncement[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly lastSent = new Map<string, number>();
  private readonly intervalMs: number;

  constructor(
    private readonly rooms: Rooms,
    private readonly log: Logger,
    opts: AnnouncerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 250;
  }

  /** Queues an incident announcement. */
  announce(room: string, item: PendingAnnouncement): void {
    const queue = this.queues.get(room) ?? [];
    queue.push(item);
    this.queues.set(room, queue);
    this.schedule(room);
  }

  /** A plain line (command replies): sent in order with the same rate limit, never folded. */
  say(room: string, text: string): void {
    this.announce(room, { number: -1, change: 'reply', fromDomain: '', text });
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(room: string): void {
    if (this.timers.has(room)) return;
    const wait = Math.max(0, (this.lastSent.get(room) ?? 0) + this.intervalMs - Date.now());
    this.timers.set(
      room,
      setTimeout(() => {
        this.timers.delete(room);
        void this.flush(room);
      }, wait),
    );
  }

  private async flush(room: string): Promise<void> {
    const queue = this.queues.get(room) ?? [];
    this.queues.set(room, []);
    // Replies are never folded: take them (in order) and fold only the announcements.
    const replies = queue.filter((q) => q.number < 0).map((q) => q.text);
    const folded = foldBacklog(queue.filter((q) => q.number >= 0));
    const messages = [...folded, ...replies];
    const [first, ...rest] = messages;
    if (first !== undefined) {
      this.lastSent.set(room, Date.now());
      await this.rooms.send(room, first).catch((err: Error) => this.log.warn({ room, err: err.message }, 'room message not sent'));
    }
    // Anything left goes back to the front of the queue for the next slot.
    if (rest.length) {
      const again = this.queues.get(room) ?? [];
      this.queues.set(room, [...rest.map((text) => ({ number: -1, change: 'reply', fromDomain: '', text })), ...again]);
    }
    if ((this.queues.get(room) ?? []).length) this.schedule(room);
  }
}
