/**
 * The bot's voice in rooms: a per-room queue sent at a bounded rate, folding a backlog into summaries
 * (src/core/storm.ts) so a flood of reports never becomes a flood of lines. Nothing is dropped from the store;
 * only the room's view is condensed.
 *
 * The pace adapts to a storm. In a quiet room each announcement goes out at once. When they pile up, lines are
 * spaced by `intervalMs` (short, so the first grouped lines of an attack show up within a fraction of a second)
 * for at most `stormLines` lines; after that the storm is clearly on, and the room gets at most one summary line
 * every `stormIntervalMs` until it has been quiet for `quietMs`. Command replies never wait for that budget.
 * All of it is timed on the monotonic clock: a wall clock stepped back must not hold replies for the size of the step.
 */
import type { Logger } from 'pino';
import { monotonicNow } from '../core/clock.js';
import { foldGroups, type PendingAnnouncement } from '../core/storm.js';
import { bareJid } from '../protocol/validate.js';
import type { Rooms } from './rooms.js';

export interface AnnouncerOptions {
  /** Minimum gap between two bot messages in one room. */
  intervalMs?: number;
  /** Announcement lines a storm may use at that pace before the room is only given summaries. */
  stormLines?: number;
  /** Gap between summary lines once the storm's budget is spent. */
  stormIntervalMs?: number;
  /** A room with no new announcement for this long is quiet again: the budget is restored. */
  quietMs?: number;
  /** Told how long each announcement waited before its line was sent (ms), for the metrics. */
  onAnnounced?: (waitedMs: number) => void;
}

const MAX_WAITING_REPLIES = 100;
/** Announcements kept for a room the bot is out of (disconnected, rejoining): beyond this the oldest are counted
 * instead (they are in the store; `!list` shows them), so a long outage under a flood cannot exhaust memory. */
export const MAX_WAITING_ANNOUNCEMENTS = 2000;

export const ANNOUNCER_DEFAULTS: Required<Omit<AnnouncerOptions, 'onAnnounced'>> = { intervalMs: 100, stormLines: 20, stormIntervalMs: 2000, quietMs: 5000 };


interface RoomState {
  /** Announcements not yet sent: folded afresh at each slot, so a growing backlog keeps folding. */
  pending: PendingAnnouncement[];
  /** Command answers waiting, in order: never folded, never counted against a storm's budget. */
  replies: string[];
  timer?: NodeJS.Timeout;
  /** When the timer fires. */
  due: number;
  lastSent: number;
  /** Announcement lines sent since the room was last quiet. */
  linesInStorm: number;
  /** When linesInStorm last leaked (see budgetSpent). */
  leakedAt: number;
  lastAnnounced: number;
  /** Announcements dropped from `pending` (the oldest) while it was full: said in one line when the room is back. */
  dropped: number;
}

export class Announcer {
  private readonly states = new Map<string, RoomState>();
  /** Gives the line announcing a single incident a message id, so replies and reactions can name it (src/gestures). */
  tagLine?: (room: string, number: number) => string;
  private readonly options: Required<Omit<AnnouncerOptions, 'onAnnounced'>> & Pick<AnnouncerOptions, 'onAnnounced'>;

  constructor(
    private readonly rooms: Rooms,
    private readonly log: Logger,
    opts: AnnouncerOptions = {},
  ) {
    this.options = { ...ANNOUNCER_DEFAULTS, ...opts };
    // What waited while we were out of the room (disconnected, rejoining, refused) goes out once we are back in.
    rooms.onJoined((room) => {
      const state = this.states.get(room);
      if (state && (state.replies.length > 0 || state.pending.length > 0)) this.schedule(room, state);
    });
  }

  /** Lines waiting for a room (e.g. while the bot is out of it). */
  waiting(room: string): number {
    const state = this.states.get(bareJid(room));
    return state ? state.replies.length + state.pending.length : 0;
  }

  /** Queues an incident announcement. */
  announce(room: string, item: PendingAnnouncement): void {
    room = bareJid(room);
    const state = this.stateOf(room);
    const now = monotonicNow();
    if (now - state.lastAnnounced >= this.options.quietMs) state.linesInStorm = 0;
    state.lastAnnounced = now;
    state.pending.push(this.options.onAnnounced ? { ...item, queuedAt: now } : item);
    if (state.pending.length > MAX_WAITING_ANNOUNCEMENTS) {
      state.pending.shift();
      state.dropped += 1;
    }
    this.schedule(room, state);
  }

  /** Hands whatever waits for `from` (a room the bot leaves) to `to`, in order, so that nothing queued is lost. */
  moveWaiting(from: string, to: string): void {
    from = bareJid(from);
    to = bareJid(to);
    const state = this.states.get(from);
    if (!state || from === to) return;
    clearTimeout(state.timer);
    this.states.delete(from);
    for (const reply of state.replies) this.say(to, reply);
    const target = this.stateOf(to);
    // As they were queued (their wait goes on counting), after what already waits there, the newest kept.
    target.pending.push(...state.pending);
    const over = Math.max(0, target.pending.length - MAX_WAITING_ANNOUNCEMENTS);
    target.pending.splice(0, over);
    target.dropped += state.dropped + over;
    if (target.pending.length > 0) this.schedule(to, target);
  }

  /** A plain line (command replies): sent in order with the same minimum gap, never folded. */
  say(room: string, text: string): void {
    room = bareJid(room);
    const state = this.stateOf(room);
    // Bounded while we are out of the room: the oldest command answers are the least useful ones.
    if (state.replies.length >= MAX_WAITING_REPLIES) state.replies.shift();
    state.replies.push(text);
    this.schedule(room, state);
  }

  stop(): void {
    for (const state of this.states.values()) clearTimeout(state.timer);
    this.states.clear();
  }

  private stateOf(room: string): RoomState {
    let state = this.states.get(room);
    if (!state) {
      state = { pending: [], replies: [], due: 0, lastSent: Number.NEGATIVE_INFINITY, linesInStorm: 0, leakedAt: 0, lastAnnounced: Number.NEGATIVE_INFINITY, dropped: 0 };
      this.states.set(room, state);
    }
    return state;
  }

  /**
   * The budget follows the rate, not a count: lines spent leak back at one per `stormIntervalMs`, so a trickle the
   * room can take line by line (a report every few seconds) never exhausts it; only lines coming faster do.
   */
  private budgetSpent(state: RoomState): boolean {
    const now = monotonicNow();
    state.linesInStorm = Math.max(0, state.linesInStorm - (now - state.leakedAt) / this.options.stormIntervalMs);
    state.leakedAt = now;
    return state.linesInStorm >= this.options.stormLines;
  }

  private schedule(room: string, state: RoomState): void {
    const gap = this.budgetSpent(state) && state.replies.length === 0 ? this.options.stormIntervalMs : this.options.intervalMs;
    const due = Math.max(monotonicNow(), state.lastSent + gap);
    // A reply arriving while a storm's long slot is pending brings the slot forward.
    if (state.timer && state.due <= due) return;
    clearTimeout(state.timer);
    state.due = due;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.flush(room, state);
    }, due - monotonicNow());
  }

  private flush(room: string, state: RoomState): void {
    // Out of the room (disconnected, or not yet back in): keep everything; onJoined schedules it again. Announcements
    // keep folding meanwhile, so the backlog is a few summary lines whatever its size.
    if (!this.rooms.isJoined(room)) return;
    // Once the storm's budget is spent, a waiting reply goes first: admins are not kept behind summaries.
    const replyFirst = state.replies.length > 0 && (this.budgetSpent(state) || state.pending.length === 0);
    let text: string | undefined;
    let id: string | undefined;
    if (state.dropped > 0) {
      const n = state.dropped;
      state.dropped = 0;
      text = `${n} older announcement${n === 1 ? ' was' : 's were'} not kept while I was out of this room (they are stored: !list shows them).`;
    } else if (replyFirst) {
      text = state.replies.shift();
    } else {
      // Everything that piled up is folded now; the first line goes out, the rest wait to fold with newcomers.
      const [first, ...rest] = foldGroups(state.pending);
      state.pending = rest.flatMap((g) => g.items);
      if (first) {
        text = first.text;
        if (first.items.length === 1) id = this.tagLine?.(room, first.items[0]!.number);
        state.linesInStorm += 1;
        const onAnnounced = this.options.onAnnounced;
        if (onAnnounced) {
          const now = monotonicNow();
          for (const item of first.items) if (item.queuedAt !== undefined) onAnnounced(now - item.queuedAt);
        }
      }
    }
    if (text !== undefined) {
      state.lastSent = monotonicNow();
      // Not awaited: the next slot is timed from now, not from when the socket took this line (under a flood the
      // write can lag, and waiting for it stretched 100 ms slots to 300 ms). Lines still leave in order.
      const said = text;
      void this.rooms.send(room, said, id).catch((err: Error) => {
        this.log.warn({ room, err: err.message }, 'room message not sent');
        // The stream dropped under it: said again, first, once the bot is back in the room.
        if (!this.rooms.isJoined(room)) this.stateOf(room).replies.unshift(said);
      });
    }
    if (this.states.get(room) === state && (state.replies.length > 0 || state.pending.length > 0)) this.schedule(room, state);
  }
}
