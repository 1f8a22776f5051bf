/**
 * Drains the persisted outbox: every stanza the bot owes a peer is sent, and retried with exponential backoff
 * until the peer's IQ result arrives (a legacy message: until it went out on a live stream), or until the
 * configured give-up time has passed. A peer that answers with an error has refused: retrying would not help,
 * except for errors of type `wait`.
 */
import xml, { type Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { IncidentStore, OutboxEntry } from '../core/store.js';
import { parseXml } from '../protocol/xml.js';
import type { Client } from './connection.js';

export interface DeliveryPolicy {
  retryMinMs: number;
  retryMaxMs: number;
  giveUpAfterMs: number;
  /** How long to wait for a peer's IQ result before counting the attempt as failed. */
  replyTimeoutMs: number;
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
  | { kind: 'gave-up'; lastError?: string };

export class Delivery {
  private readonly inFlight = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly xmpp: Client,
    private readonly store: IncidentStore,
    private readonly policy: DeliveryPolicy,
    private readonly log: Logger,
    private readonly onOutcome: (entry: OutboxEntry, outcome: DeliveryOutcome) => void,
  ) {
    xmpp.on('online', () => this.kick());
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Looks at the outbox now (after an enqueue, or when the stream comes back). */
  kick(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), 0);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    // Give-up first: an entry that is due again is about to be in flight, and in-flight entries are skipped.
    // Checked even while offline: an owed stanza must not wait forever.
    // A give-up that cannot be written (a full disk) is retried at the next tick, never an unhandled rejection.
    await this.giveUpExpired(now).catch((err: Error) => this.log.warn({ err: err.message }, 'giving up an owed stanza could not be stored'));
    if (this.stopped) return;
    let next = Number.POSITIVE_INFINITY;
    if (this.xmpp.status === 'online') {
      for (const entry of [...this.store.outbox]) {
        if (this.inFlight.has(entry.id)) continue;
        const due = Date.parse(entry.nextAttemptAt);
        if (due <= now) void this.attempt(entry);
        else next = Math.min(next, due);
      }
    } else {
      next = now + this.policy.retryMinMs;
    }
    if (Number.isFinite(next) && !this.stopped) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.tick(), Math.max(10, next - now));
    }
  }

  private async attempt(entry: OutboxEntry): Promise<void> {
    this.inFlight.add(entry.id);
    try {
      const payload = parseXml(entry.payload);
      if (!payload.ok) throw new Error(`stored payload unreadable: ${payload.error.message}`);
      if (entry.stanza === 'message') {
        await this.xmpp.send(xml('message', { to: entry.to }, payload.value));
        await this.finish(entry, { kind: 'delivered' });
        return;
      }
      const reply = await this.xmpp.iqCaller.request(
        xml('iq', { type: entry.iqType ?? 'set', to: entry.to }, payload.value),
        this.policy.replyTimeoutMs,
      );
      await this.finish(entry, { kind: 'delivered', reply });
    } catch (err) {
      const e = err as { name?: string; condition?: string; text?: string; type?: string; message?: string };
      if (e.name === 'StanzaError' && e.type !== 'wait' && !RETRYABLE.has(e.condition ?? '')) {
        await this.finish(entry, { kind: 'refused', condition: e.condition ?? 'undefined-condition', ...(e.text ? { text: e.text } : {}) });
        return;
      }
      entry.attempts += 1;
      entry.lastError = e.condition ?? e.message ?? String(err);
      const delay = Math.min(this.policy.retryMinMs * 2 ** (entry.attempts - 1), this.policy.retryMaxMs);
      entry.nextAttemptAt = new Date(Date.now() + delay).toISOString();
      this.store.saveOutbox(entry);
      this.log.info({ to: entry.to, purpose: entry.purpose, attempts: entry.attempts, err: entry.lastError }, 'delivery will be retried');
      await this.store.commit().catch(() => undefined);
      this.kickLater(delay);
    } finally {
      this.inFlight.delete(entry.id);
    }
  }

  private async finish(entry: OutboxEntry, outcome: DeliveryOutcome): Promise<void> {
    this.store.dequeue(entry.id);
    await this.store.commit();
    this.log.info({ to: entry.to, purpose: entry.purpose, outcome: outcome.kind }, 'delivery finished');
    this.onOutcome(entry, outcome);
  }

  private async giveUpExpired(now: number): Promise<void> {
    for (const entry of [...this.store.outbox]) {
      if (this.inFlight.has(entry.id)) continue;
      if (now - Date.parse(entry.createdAt) < this.policy.giveUpAfterMs) continue;
      await this.finish(entry, { kind: 'gave-up', ...(entry.lastError ? { lastError: entry.lastError } : {}) });
    }
  }

  private kickLater(delay: number): void {
    if (this.stopped) return;
    setTimeout(() => this.kick(), delay).unref();
  }
}
