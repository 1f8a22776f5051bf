/**
 * What the bot exposes to Prometheus (prom-client, a registry of its own). Events are pushed in by small hooks
 * (`Observer`); everything that is a state — incidents by state, the outbox, the connection, the store — is read
 * when scraped, so nothing is counted twice and an idle bot costs nothing.
 */
import { statSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IncidentStore } from '../core/store.js';
import { peerKey } from '../xmpp/delivery.js';

/** The events the rest of the bot reports (all optional for the callers: metrics may be off). */
export interface Observer {
  received(format: 'iodef' | 'legacy', kind: string, trusted: boolean): void;
  refused(reason: string): void;
  /** Receipt → durable → IQ result handed back (seconds), and the store commit alone. */
  acknowledged(totalSeconds: number, commitSeconds: number): void;
  /** Report acknowledged → announcement line sent (seconds). */
  announced(seconds: number): void;
  delivery(outcome: string): void;
}

export interface MetricsSources {
  store: IncidentStore;
  online(): boolean;
  inDefaultRoom(): boolean;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class BotMetrics implements Observer {
  readonly registry = new Registry();
  private readonly receivedTotal: Counter<'format' | 'kind' | 'trust'>;
  private readonly refusedTotal: Counter<'reason'>;
  private readonly ackSeconds: Histogram;
  private readonly commitSeconds: Histogram;
  private readonly announceSeconds: Histogram;
  private readonly deliveriesTotal: Counter<'outcome'>;
  readonly reconnects: Counter;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'incident_bot_' });
    this.receivedTotal = new Counter({ name: 'incident_bot_reports_received_total', help: 'Reports, requests, responses and inquiries acknowledged, by wire format, kind and trust of the sender', labelNames: ['format', 'kind', 'trust'], registers });
    this.refusedTotal = new Counter({ name: 'incident_bot_reports_refused_total', help: 'Stanzas refused, by reason', labelNames: ['reason'], registers });
    this.ackSeconds = new Histogram({ name: 'incident_bot_ack_latency_seconds', help: 'Receipt of a report to its IQ result, the store write included', buckets: LATENCY_BUCKETS, registers });
    this.commitSeconds = new Histogram({ name: 'incident_bot_store_commit_seconds', help: 'Time to make a report durable', buckets: LATENCY_BUCKETS, registers });
    this.announceSeconds = new Histogram({ name: 'incident_bot_announce_latency_seconds', help: 'Acknowledgement to the announcement line in the room', buckets: LATENCY_BUCKETS, registers });
    this.deliveriesTotal = new Counter({ name: 'incident_bot_deliveries_total', help: 'Owed stanzas by outcome (delivered, refused, gave-up, silent)', labelNames: ['outcome'], registers });
    this.reconnects = new Counter({ name: 'incident_bot_reconnects_total', help: 'Streams opened again after the first', registers });
    const { store } = sources;
    new Gauge({
      name: 'incident_bot_incidents',
      help: 'Incidents in the store, by triage state (follows the store index, under a second behind)',
      labelNames: ['state'],
      registers,
      collect() {
        const { byState } = store.counts();
        for (const [state, n] of Object.entries(byState)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'incident_bot_outbox_depth',
      help: 'Stanzas owed, by peer',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const [peer, { count }] of outboxByPeer(store)) this.set({ peer }, count);
      },
    });
    new Gauge({
      name: 'incident_bot_outbox_oldest_age_seconds',
      help: 'Age of the oldest stanza owed, by peer',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const [peer, { oldest }] of outboxByPeer(store)) this.set({ peer }, Math.max(0, (now - oldest) / 1000));
      },
    });
    new Gauge({ name: 'incident_bot_connected', help: '1 when the XMPP stream is up', registers, collect() { this.set(sources.online() ? 1 : 0); } });
    new Gauge({ name: 'incident_bot_in_default_room', help: '1 when the bot is in its default room', registers, collect() { this.set(sources.inDefaultRoom() ? 1 : 0); } });
    new Gauge({ name: 'incident_bot_store_writable', help: '1 when the store can write', registers, collect() { this.set(store.health.ok ? 1 : 0); } });
    new Gauge({ name: 'incident_bot_store_incidents', help: 'Incidents in the store', registers, collect() { this.set(store.size); } });
    new Gauge({
      name: 'incident_bot_store_bytes',
      help: 'Size of the store database file',
      registers,
      collect() {
        this.set(fileBytes(store.databaseFile));
      },
    });
  }

  received(format: 'iodef' | 'legacy', kind: string, trusted: boolean): void {
    this.receivedTotal.inc({ format, kind, trust: trusted ? 'trusted' : 'untrusted' });
  }
  refused(reason: string): void {
    this.refusedTotal.inc({ reason });
  }
  acknowledged(totalSeconds: number, commitSeconds: number): void {
    this.ackSeconds.observe(totalSeconds);
    this.commitSeconds.observe(commitSeconds);
  }
  announced(seconds: number): void {
    this.announceSeconds.observe(seconds);
  }
  delivery(outcome: string): void {
    this.deliveriesTotal.inc({ outcome });
  }
}

function outboxByPeer(store: IncidentStore): Map<string, { count: number; oldest: number }> {
  const peers = new Map<string, { count: number; oldest: number }>();
  for (const entry of store.outbox) {
    const peer = peerKey(entry.to);
    const created = Date.parse(entry.createdAt);
    const known = peers.get(peer);
    if (known) {
      known.count += 1;
      known.oldest = Math.min(known.oldest, created);
    } else peers.set(peer, { count: 1, oldest: created });
  }
  return peers;
}

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
