/**
 * Drains the persisted outbox: every stanza the bot owes a peer is sent, and retried until the peer's IQ result
 * arrives (a legacy message: until it went out on a live stream), or until the configured give-up time has passed.
 * A peer that answers with an error has refused: retrying would not help, except for "not reachable now" errors.
 *
 * Retries are per peer (peer-backoff.ts): a peer that is down gets one probe at a time, the rest of what it is owed
 * waits for that probe, and the log gets one line per peer per backoff step. A stanza over the size limit, or a
 * stored payload that cannot be read, is given up at once with a line in the room: retrying cannot help, and sending
 * an oversized stanza would make the server close the stream, again after every reconnect.
 *
 * Time: every deadline is monotonic (clock.ts). Entries carry wall-clock `createdAt`/`nextAttemptAt` only to survive
 * a restart and for `!outbox`: when the loop first sees an entry (after a restart, or as it is queued) those are
 * turned into monotonic deadlines once, clamped to [now, now + retryMax] and to at most the give-up time, so a clock
 * stepped back or forward neither delays a retry nor gives an entry up early.
 */
import xml, { type Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock.js';
import { PeerBackoff, type AttemptToken } from '../core/peer-backoff.js';
import type { IncidentStore, OutboxEntry } from '../core/store.js';
import { parseXml } from '../protocol/xml.js';
import type { Client } from './connection.js';
import { StanzaTooLargeError } from './stanza-guard.js';
import { IqTimeoutError } from './iq-request.js';

export interface DeliveryPolicy {
  retryMinMs: number;
  retryMaxMs: number;
  giveUpAfterMs: number;
  /** How long to wait for a peer's IQ result before counting the attempt as failed. */
  replyTimeoutMs: number;
  /** The stanza size limit: bounds how much of a stored payload is worth parsing. */
  maxStanzaBytes: number;
  /** Stanzas in flight at once to one peer that answers (default 32). */
  maxInFlightPerPeer?: number;
  /** Reshapes a payload for what the peer's software accepts (peer profiles), just before it is sent. */
  shapePayload?: (entry: OutboxEntry, payload: Element) => Promise<Element>;
  /** Unanswered IQs in a row after which a peer is reported as silent, once (default 3). */
  silentAfter?: number;
}

/**
 * Errors that say "not reachable now" rather than "no": a peer bot that is offline makes its server answer
 * service-unavailable / recipient-unavailable, and a remote server may be unreachable for a while. Retried.
 */
const RETRYABLE = new Set([
  'service-unavailable',
  'recipient-unavailable',
  'remote-server-not-found',
  'remote-server-timeout',
  'resource-constraint',
  'internal-server-error',
]);

export type DeliveryOutcome =
  | { kind: 'delivered'; reply?: Element }
  | { kind: 'refused'; condition: string; text?: string }
  /** `others`: more entries owed to the same peer given up at the same time (reported in one line). */
  | { kind: 'gave-up'; lastError?: string; others?: OutboxEntry[] }
  /** The peer has not answered `unanswered` IQs in a row (timeouts, not errors): said once, still retried. */
  | { kind: 'silent'; unanswered: number };

/** Monotonic deadlines of an entry, made once from its stored wall times. */
interface Timing {
  createdAt: number;
  dueAt: number;
}

/** The peer an entry goes to: its address with the bare part lower-cased (XMPP compares those case-insensitively). */
export function peerKey(to: string): string {
  const slash = to.indexOf('/');
  return slash === -1 ? to.toLowerCase() : `${to.slice(0, slash).toLowerCase()}${to.slice(slash)}`;
}

export class Delivery {
  private readonly inFlight = new Set<string>();
  private readonly timings = new Map<string, Timing>();
  private readonly backoff: PeerBackoff;
  /** Peer → IQs in a row it let time out; reset by any answer. */
  private readonly unanswered = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private ticking = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly xmpp: Client,
    private readonly store: IncidentStore,
    private readonly policy: DeliveryPolicy,
    private readonly log: Logger,
    private readonly onOutcome: (entry: OutboxEntry, outcome: DeliveryOutcome) => void,
    private readonly clock: Clock = systemClock,
  ) {
    this.backoff = new PeerBackoff({ retryMinMs: policy.retryMinMs, retryMaxMs: policy.retryMaxMs, maxInFlight: policy.maxInFlightPerPeer ?? 32 });
    xmpp.on('online', () => this.kick());
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Looks at the outbox soon (after an enqueue, an answer, or when the stream comes back); kicks coalesce. */
  kick(): void {
    this.wakeAt(this.clock.now());
  }

  private wakeAt(at: number): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.tick().catch((err: Error) => this.log.error({ err: err.message }, 'delivery loop failed'));
    }, Math.max(0, at - this.clock.now()));
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.ticking = true;
    let next = Number.POSITIVE_INFINITY;
    try {
      const now = this.clock.now();
      // Give-up first, even while offline: an owed stanza must not wait forever.
      next = await this.giveUpExpired(now);
      if (this.stopped) return;
      next = Math.min(next, this.xmpp.status === 'online' ? this.sendDue(now) : now + this.policy.retryMinMs);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'delivery loop failed; retrying');
      next = this.clock.now() + this.policy.retryMinMs;
    } finally {
      this.ticking = false;
    }
    if (this.again) {
      this.again = false;
      next = this.clock.now();
    }
    if (Number.isFinite(next)) this.wakeAt(next);
  }

  /** Starts what is due, peer by peer within each peer's slots; returns when to look again. */
  private sendDue(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    const slots = new Map<string, number>();
    const owed = new Set<string>();
    for (const entry of this.store.outbox) {
      const peer = peerKey(entry.to);
      owed.add(peer);
      if (this.inFlight.has(entry.id)) continue;
      const resumeAt = this.backoff.resumeAt(peer, now);
      if (resumeAt !== undefined) {
        next = Math.min(next, resumeAt);
        continue;
      }
      const due = this.timingOf(entry).dueAt;
      if (due > now) {
        next = Math.min(next, due);
        continue;
      }
      const free = slots.get(peer) ?? this.backoff.slots(peer, now);
      // No slot: a delivery in flight to this peer ends with a kick.
      if (free <= 0) continue;
      slots.set(peer, free - 1);
      this.attempt(entry, peer).catch((err: Error) => this.log.error({ err: err.message }, 'delivery attempt failed'));
    }
    this.backoff.forgetAllBut(owed);
    if (this.timings.size > 2 * this.store.outbox.length + 100) this.pruneTimings();
    return next;
  }

  private async attempt(entry: OutboxEntry, peer: string): Promise<void> {
    this.inFlight.add(entry.id);
    const token = this.backoff.started(peer);
    let outcome: DeliveryOutcome | undefined;
    try {
      outcome = await this.send(entry, token);
    } catch (err) {
      outcome = await this.failed(entry, token, err);
    }
    try {
      if (outcome) await this.finish(entry, outcome);
    } catch (err) {
      this.log.warn({ to: entry.to, err: (err as Error).message }, 'delivery outcome not saved');
    } finally {
      this.inFlight.delete(entry.id);
      this.kick();
    }
  }

  /** Sends one entry; resolves with its outcome once the peer answered (or the message went out). */
  private async send(entry: OutboxEntry, token: AttemptToken): Promise<DeliveryOutcome> {
    const payload = parseXml(entry.payload, { maxDepth: 24, maxElements: 5000, maxTextLength: this.policy.maxStanzaBytes });
    if (!payload.ok) {
      this.backoff.released(token);
      return { kind: 'gave-up', lastError: `stored payload unreadable: ${payload.error.message}` };
    }
    const body = this.policy.shapePayload ? await this.policy.shapePayload(entry, payload.value) : payload.value;
    if (entry.stanza === 'message') {
      await this.xmpp.send(xml('message', { to: entry.to }, body));
      // Out on a live stream is all a message can say: the peer counts as up, so a backlog flows at full pace.
      this.backoff.answered(token);
      return { kind: 'delivered' };
    }
    const reply = await this.xmpp.iqCaller.request(xml('iq', { type: entry.iqType ?? 'set', to: entry.to }, body), this.policy.replyTimeoutMs);
    this.answered(token);
    return { kind: 'delivered', reply };
  }

  /** The outcome of a failed attempt, or undefined when it is retried (after the peer's backoff). */
  private async failed(entry: OutboxEntry, token: AttemptToken, err: unknown): Promise<DeliveryOutcome | undefined> {
    const e = err as { name?: string; condition?: string; text?: string; type?: string; message?: string };
    if (err instanceof StanzaTooLargeError) {
      this.backoff.released(token);
      entry.attempts += 1;
      return { kind: 'gave-up', lastError: err.message };
    }
    if (e.name === 'StanzaError' && e.type !== 'wait' && !RETRYABLE.has(e.condition ?? '')) {
      this.answered(token);
      return { kind: 'refused', condition: e.condition ?? 'undefined-condition', ...(e.text ? { text: e.text } : {}) };
    }
    const error = e.condition ?? e.message ?? String(err);
    const now = this.clock.now();
    if (this.xmpp.status !== 'online') {
      // Our stream went away, not the peer: the reconnect kicks the loop; nothing to count or persist.
      this.backoff.released(token);
      this.timingOf(entry).dueAt = now;
      return undefined;
    }
    if (err instanceof IqTimeoutError) this.countSilence(entry, token.peer);
    const step = this.backoff.failed(token, now);
    entry.attempts += 1;
    entry.lastError = error;
    entry.nextAttemptAt = new Date(this.clock.wall() + Math.max(0, step.resumeAt - now)).toISOString();
    this.timingOf(entry).dueAt = step.resumeAt;
    this.store.saveOutbox(entry);
    if (step.step) {
      this.log.info(
        { to: token.peer, err: error, failures: step.failures, waiting: this.owedTo(token.peer), nextProbeInS: Math.round(step.delayMs / 100) / 10 },
        'peer not reachable: deliveries to it wait for the next probe',
      );
    }
    await this.store.commit().catch((err: Error) => this.log.warn({ err: err.message }, 'outbox change not saved'));
    return undefined;
  }

  private owedTo(peer: string): number {
    let n = 0;
    for (const o of this.store.outbox) if (peerKey(o.to) === peer) n += 1;
    return n;
  }

  /** A peer that lets IQs time out (Metronome's handler fails without replying) is reported once, not retried silently. */
  private countSilence(entry: OutboxEntry, peer: string): void {
    const count = (this.unanswered.get(peer) ?? 0) + 1;
    this.unanswered.set(peer, count);
    if (count === (this.policy.silentAfter ?? 3)) {
      this.log.warn({ to: peer, unanswered: count }, 'peer does not answer: still retrying');
      this.onOutcome(entry, { kind: 'silent', unanswered: count });
    }
  }

  private answered(token: AttemptToken): void {
    this.unanswered.delete(token.peer);
    if (this.backoff.answered(token)) {
      this.log.info({ to: token.peer, waiting: this.owedTo(token.peer) }, 'peer reachable again: delivering what it is owed');
    }
  }

  private async finish(entry: OutboxEntry, outcome: DeliveryOutcome): Promise<void> {
    this.store.dequeue(entry.id);
    this.timings.delete(entry.id);
    await this.store.commit();
    const level = outcome.kind === 'delivered' ? 'debug' : 'info';
    this.log[level]({ to: entry.to, purpose: entry.purpose, outcome: outcome.kind }, 'delivery finished');
    this.onOutcome(entry, outcome);
  }

  /** Gives up what has waited too long, in one write and one report per peer; returns the next give-up time. */
  private async giveUpExpired(now: number): Promise<number> {
    let next = Number.POSITIVE_INFINITY;
    const expired = new Map<string, OutboxEntry[]>();
    for (const entry of this.store.outbox) {
      if (this.inFlight.has(entry.id)) continue;
      const deadline = this.timingOf(entry).createdAt + this.policy.giveUpAfterMs;
      if (deadline > now) {
        next = Math.min(next, deadline);
        continue;
      }
      const peer = peerKey(entry.to);
      const list = expired.get(peer);
      if (list) list.push(entry);
      else expired.set(peer, [entry]);
    }
    if (expired.size === 0) return next;
    for (const entries of expired.values()) {
      for (const entry of entries) {
        this.store.dequeue(entry.id);
        this.timings.delete(entry.id);
      }
    }
    await this.store.commit();
    for (const [peer, [first, ...others]] of expired) {
      this.log.info({ to: peer, count: 1 + others.length, lastError: first!.lastError }, 'gave up delivering');
      this.onOutcome(first!, { kind: 'gave-up', ...(first!.lastError ? { lastError: first!.lastError } : {}), ...(others.length ? { others } : {}) });
    }
    return next;
  }

  private timingOf(entry: OutboxEntry): Timing {
    let timing = this.timings.get(entry.id);
    if (!timing) {
      const now = this.clock.now();
      const wall = this.clock.wall();
      const age = clamp(wall - Date.parse(entry.createdAt), 0, this.policy.giveUpAfterMs);
      const wait = clamp(Date.parse(entry.nextAttemptAt) - wall, 0, this.policy.retryMaxMs);
      timing = { createdAt: now - age, dueAt: now + wait };
      this.timings.set(entry.id, timing);
    }
    return timing;
  }

  private pruneTimings(): void {
    const live = new Set(this.store.outbox.map((e) => e.id));
    for (const id of this.timings.keys()) if (!live.has(id)) this.timings.delete(id);
  }
}

/** `value` within [min, max]; a NaN (an unreadable stored time) counts as `min`. */
function clamp(value: number, min: number, max: number): number {
  return Number.isNaN(value) ? min : Math.min(max, Math.max(min, value));
}
