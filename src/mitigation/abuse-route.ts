/**
 * The route for forwarded XEP-0377 abuse reports: message → decode → trust (from the stanza's `from`) → group into
 * the open incident about the reported JID → durable store → one room line per incident per storm window.
 * A message carries no acknowledgement, so there is nothing to answer: a bad report is logged and dropped.
 */
import type { Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { monotonicNow } from '../core/clock.js';
import { clip, line } from '../core/flat-text.js';
import type { IncidentStore, StoredIncident } from '../core/store.js';
import type { PendingAnnouncement } from '../core/storm.js';
import { decideTrust } from '../core/trust.js';
import { SenderRateLimiter } from '../core/limits.js';
import { bareJid, domainOf } from '../protocol/validate.js';
import type { Client } from '../xmpp/connection.js';
import { decodeAbuseReport, fileAbuseReport, findAbuseReport } from './abuse-reports.js';
import { DEFAULT_STORM_WINDOW_SECONDS } from './rtbl-config.js';
import { followedListsOf, type Listing } from './rtbl-follow.js';

export interface AbuseRouteDeps {
  xmpp: Client;
  config: Config;
  store: IncidentStore;
  log: Logger;
  /** Queues a room line; in a storm the announcer folds many incidents' lines into one summary per server. */
  announce(room: string, item: PendingAnnouncement): void;
  count(event: string): void;
  /** Monotonic ms (tests pass their own). */
  now?: () => number;
}

/** The bot's own server (a `report_forward_to` destination) is trusted like a configured peer; else the trust list. */
export function abuseReporterTrusted(from: string, config: Pick<Config, 'peers' | 'xmpp'>): boolean {
  if (!from.includes('@') && !from.includes('/') && from.toLowerCase() === config.xmpp.domain.toLowerCase()) return true;
  return decideTrust(from, config.peers).trusted;
}

/** The room line: `#31 spam by bot77@evil.example — 14 reports from 5 servers`. */
export function abuseLine(stored: StoredIncident, listings: readonly Listing[] = []): string {
  const tally = stored.abuse!;
  const reports = `${tally.count} report${tally.count === 1 ? '' : 's'}`;
  const servers = `${tally.reporters.length} server${tally.reporters.length === 1 ? '' : 's'}`;
  const last = tally.evidence.at(-1);
  const evidence = last?.text ? line` — "${clip(last.text, 120)}"` : '';
  const untrusted = stored.trusted ? '' : ' (untrusted reporter)';
  const hint = tally.count === 1 ? ` — !block #${stored.number} to put it on the block list` : '';
  const listed = listings.map((l) => line` — listed on ${clip(l.list, 300)} since ${l.since}`).join('');
  return line`#${stored.number} ${tally.reason} by ${clip(tally.jid, 200)} — ${reports} from ${servers}${untrusted}${listed}${evidence}` + hint;
}

/** Remembers when each incident last got a line, so a storm of reports gives one line per window. */
export class StormGate {
  private readonly last = new Map<number, number>();
  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = monotonicNow,
  ) {}

  /** Whether a line about incident `n` may go out now (and if so, counts it as sent). */
  pass(n: number): boolean {
    const t = this.now();
    const before = this.last.get(n);
    if (before !== undefined && t - before < this.windowMs) return false;
    this.last.set(n, t);
    if (this.last.size > 10_000) this.prune(t);
    return true;
  }

  private prune(t: number): void {
    for (const [n, at] of this.last) if (t - at >= this.windowMs) this.last.delete(n);
  }
}

export function routeAbuseReports(deps: AbuseRouteDeps): void {
  const windowMs = (deps.config.rtbl?.stormWindowSeconds ?? DEFAULT_STORM_WINDOW_SECONDS) * 1000;
  const gate = new StormGate(windowMs, deps.now);
  // The same per-sender and per-domain limits as incident reports (their own buckets): a flood of abuse reports
  // must not grow the store faster than one of reports could.
  const { limits } = deps.config;
  const senders = new SenderRateLimiter({ perMinute: limits.reportsPerMinute, burst: limits.burst });
  const domains = new SenderRateLimiter({ perMinute: limits.reportsPerMinutePerDomain, burst: limits.burstPerDomain });
  deps.xmpp.on('stanza', (stanza: Element) => {
    if (!stanza.is('message') || stanza.attrs.type === 'error' || !findAbuseReport(stanza)) return;
    const from = (stanza.attrs.from as string | undefined) ?? deps.config.xmpp.domain;
    if (!senders.take(bareJid(from)) || !domains.take(domainOf(from))) {
      deps.count('rejected-rate-limit');
      return;
    }
    onAbuseReport(deps, gate, stanza).catch((err: Error) => deps.log.error({ err: err.message }, 'abuse report failed'));
  });
}

async function onAbuseReport(deps: AbuseRouteDeps, gate: StormGate, stanza: Element): Promise<void> {
  const from = (stanza.attrs.from as string | undefined) ?? deps.config.xmpp.domain;
  const trusted = abuseReporterTrusted(from, deps.config);
  if (!trusted && deps.config.untrusted === 'reject') {
    deps.count('rejected-untrusted');
    deps.log.info({ from }, 'abuse report from untrusted sender dropped');
    return;
  }
  const report = decodeAbuseReport(stanza);
  if (typeof report === 'string') {
    deps.count('rejected-malformed');
    deps.log.info({ from, error: report }, 'malformed abuse report dropped');
    return;
  }
  const outcome = fileAbuseReport(deps.store, report, { from, trusted, at: new Date().toISOString() });
  await deps.store.commit();
  deps.count('received-abuse-report');
  deps.log.info({ from: domainOf(from), number: outcome.stored.number, change: outcome.change, count: outcome.stored.abuse?.count }, 'abuse report filed');
  const listings = followedListsOf(deps.config)?.listingsOf(report.jid) ?? [];
  if (!gate.pass(outcome.stored.number)) return;
  const stored = outcome.stored;
  deps.announce(deps.config.rooms.default, { number: stored.number, change: 'abuse report', fromDomain: domainOf(from), text: () => abuseLine(stored, listings) });
}
