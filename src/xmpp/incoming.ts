/**
 * Stanza routing for what peers send: IODEF IQs and legacy messages.
 * stanza → decode → trust → workflow → durable store → acknowledge → announce.
 */
import type { Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Observer } from '../ops/metrics.js';
import type { Config } from '../core/config.js';
import { outboxEntry } from '../core/outbox.js';
import { StoreWriteError, type IncidentStore } from '../core/store.js';
import { decideTrust, type TrustDecision } from '../core/trust.js';
import {
  findForInquiry,
  noteInquiry,
  receiveReport,
  receiveRequest,
  receiveResponse,
  type Arrival,
  type ReportOutcome,
} from '../core/workflow.js';
import type { IodefKind } from '../protocol/incident.js';
import { decodeIodef, INCIDENT_NS, IODEF_NS } from '../protocol/iodef.js';
import { peerPayload } from '../core/revisions.js';
import { decodeLegacy, findLegacyPayload } from '../protocol/legacy.js';
import { xmlLongerThan } from '../protocol/xml.js';
import { domainOf } from '../protocol/validate.js';
import type { Client } from './connection.js';
import { badRequest, forbidden, internalError, itemNotFound, stanzaError } from './stanza-errors.js';
import { checkIncidentSize, SenderRateLimiter } from '../core/limits.js';
import { bareJid } from '../protocol/validate.js';

/** What the router needs from the rest of the bot. */
export interface IncomingDeps {
  xmpp: Client;
  config: Config;
  store: IncidentStore;
  log: Logger;
  /** Called after a change is durably stored and acknowledged. */
  announce(outcome: ReportOutcome, kind: IodefKind | 'legacy'): void;
  /** Counters for `stats`. */
  count(event: string): void;
  /** Wakes the delivery loop after new outbox entries are committed. */
  kickDelivery(): void;
  /** Metrics, when they are on (src/ops/metrics.ts). */
  observe?: Pick<Observer, 'received' | 'acknowledged'>;
}

interface IqContext {
  stanza: Element;
  element: Element;
}

/** Refusals that protect the bot during a flood, checked before anything is decoded or stored. */
function refuseEarly(deps: RouteDeps, from: string, payload: Element): { kind: 'rate' | 'size'; text: string } | undefined {
  const limits = deps.config.limits;
  if (!deps.limiter.take(bareJid(from))) {
    deps.count('rejected-rate-limit');
    return { kind: 'rate', text: `too many reports from ${bareJid(from)}: at most ${limits.reportsPerMinute} a minute; retry later` };
  }
  // One foreign server cannot multiply its rate by using many accounts.
  if (!deps.domainLimiter.take(domainOf(from))) {
    deps.count('rejected-rate-limit');
    return {
      kind: 'rate',
      text: `too many reports from ${domainOf(from)}: at most ${limits.reportsPerMinutePerDomain} a minute from one domain; retry later`,
    };
  }
  if (xmlLongerThan(payload, deps.config.limits.maxIncidentBytes)) {
    deps.count('rejected-too-large');
    return { kind: 'size', text: `incident too large (more than ${deps.config.limits.maxIncidentBytes} characters of XML)` };
  }
  return undefined;
}

/** The routes' own state on top of what the bot hands in: the rate limiters, per sender and per sender domain. */
interface RouteDeps extends IncomingDeps {
  limiter: SenderRateLimiter;
  domainLimiter: SenderRateLimiter;
}

/** What a config reload may change in the routes. */
export interface IncomingRoutes {
  setLimits(limits: Config['limits']): void;
}

export function routeIncoming(incoming: IncomingDeps): IncomingRoutes {
  const limits = incoming.config.limits;
  const deps: RouteDeps = {
    ...incoming,
    limiter: new SenderRateLimiter({ perMinute: limits.reportsPerMinute, burst: limits.burst }),
    domainLimiter: new SenderRateLimiter({ perMinute: limits.reportsPerMinutePerDomain, burst: limits.burstPerDomain }),
  };
  const { xmpp } = deps;
  for (const name of ['report', 'response'] as const) {
    xmpp.iqCallee.set(INCIDENT_NS, name, (ctx: IqContext) => onIodef(deps, ctx));
    xmpp.iqCallee.get(INCIDENT_NS, name, () => badRequest(`<${name}/> must be sent in an IQ of type 'set'`));
  }
  for (const name of ['inquiry', 'request'] as const) {
    xmpp.iqCallee.get(INCIDENT_NS, name, (ctx: IqContext) => onIodef(deps, ctx));
    xmpp.iqCallee.set(INCIDENT_NS, name, () => badRequest(`<${name}/> must be sent in an IQ of type 'get'`));
  }
  // XEP-0268 v0.4: a bare IODEF <Incident> directly in an IQ set is a report.
  xmpp.iqCallee.set(IODEF_NS, 'Incident', (ctx: IqContext) => onIodef(deps, ctx));

  xmpp.on('stanza', (stanza: Element) => {
    if (!stanza.is('message') || stanza.attrs.type === 'error') return;
    const payload = findLegacyPayload(stanza);
    if (!payload) return;
    onLegacy(deps, stanza, payload).catch((err: Error) => deps.log.error({ err: err.message }, 'legacy report failed'));
  });
  return {
    setLimits(next) {
      deps.limiter.setLimit({ perMinute: next.reportsPerMinute, burst: next.burst });
      deps.domainLimiter.setLimit({ perMinute: next.reportsPerMinutePerDomain, burst: next.burstPerDomain });
    },
  };
}

async function onIodef(deps: RouteDeps, ctx: IqContext): Promise<Element | true> {
  const receivedAt = performance.now();
  const from = senderOf(ctx.stanza, deps.config);
  try {
    const early = refuseEarly(deps, from, ctx.element);
    if (early?.kind === 'rate') return stanzaError('wait', 'resource-constraint', early.text);
    if (early?.kind === 'size') return stanzaError('modify', 'not-acceptable', early.text);
    const decoded = decodeIodef(ctx.element, { senderDomain: domainOf(from) });
    if (!decoded.ok) {
      deps.count('rejected-malformed');
      deps.log.info({ from, error: decoded.error }, 'malformed IODEF stanza');
      return badRequest(`${decoded.error.path}: ${decoded.error.message}`);
    }
    const { kind, incident, notes } = decoded.value;
    if (notes) deps.count('received-with-intake-notes');
    const tooBig = checkIncidentSize(incident, deps.config.limits);
    if (tooBig) {
      deps.count('rejected-too-large');
      return stanzaError('modify', 'not-acceptable', `incident refused: ${tooBig}`);
    }
    const trust = decideTrust(from, deps.config.peers);
    if (!trust.trusted && (deps.config.untrusted === 'reject' || kind === 'inquiry')) {
      deps.count('rejected-untrusted');
      deps.log.info({ from, kind }, 'untrusted sender refused');
      return forbidden(
        kind === 'inquiry'
          ? `${from} is not a trusted peer: incident details are only shared with trusted peers`
          : `${from} is not a trusted peer of this server: report refused`,
      );
    }
    if (kind === 'inquiry') return await answerInquiry(deps, from, incident);

    const arrival: Arrival = { incident, from, format: 'iodef', kind, trusted: trust.trusted, ...(notes ? { notes } : {}) };
    const outcome = kind === 'request' ? receiveRequest(deps.store, arrival) : kind === 'response' ? receiveResponse(deps.store, arrival) : receiveReport(deps.store, arrival);
    // Also when unchanged: the same report may still be in a write that has not reached the disk (a peer's
    // retry while the first copy is being written); commit() waits for it, and fails if it does.
    const committing = performance.now();
    await deps.store.commit();
    deps.count(`received-${kind}`);
    if (deps.observe) {
      const done = performance.now();
      deps.observe.received('iodef', kind, trust.trusted);
      deps.observe.acknowledged((done - receivedAt) / 1000, (done - committing) / 1000);
    }
    // Announce after the acknowledgement has been handed back to the library.
    if (outcome.change !== 'unchanged') setImmediate(() => deps.announce(outcome, kind));
    return true;
  } catch (err) {
    deps.log.error({ from, err: (err as Error).message }, 'failed to process IODEF stanza');
    deps.count(err instanceof StoreWriteError && err.diskFull ? 'rejected-disk-full' : 'rejected-internal-error');
    return storeRefusal(err);
  }
}

/**
 * Nothing was stored (the store undid the change), so nothing is acknowledged: a full disk is a temporary lack
 * of resources the peer should wait out (RFC 6120 resource-constraint, type wait); anything else is ours.
 */
function storeRefusal(err: unknown): Element {
  if (err instanceof StoreWriteError && err.diskFull) {
    return stanzaError('wait', 'resource-constraint', "the incident store's disk is full: nothing was stored; please retry later");
  }
  return internalError('the report could not be stored; please retry later');
}

const INQUIRY_ANSWER = 'answer to inquiry';

/**
 * XEP-0268: the inquiry gets an empty result, then the report about it goes in its own IQ-set. That report is
 * owed like any revision: through the outbox, so it is retried and survives a restart.
 *
 * Only what the bot would forward is answered: an incident that came from an untrusted sender (`!forward` refuses
 * it too) gets the same item-not-found as an unknown one, so the inquirer learns neither its text nor that it exists.
 */
async function answerInquiry(deps: IncomingDeps, from: string, query: { id: string; site?: string }): Promise<Element | true> {
  const stored = findForInquiry(deps.store, query);
  if (!stored || !stored.trusted) return itemNotFound(`no incident ${query.id}${query.site ? ` from ${query.site}` : ''} is known here`);
  const at = new Date().toISOString();
  const status = stored.incident.status === 'resolved' || stored.state === 'resolved' ? 'resolved' : 'updated';
  const envelope = { to: from, stanza: 'iq' as const, iqType: 'set' as const };
  const payload = peerPayload('report', { ...stored.incident, status }, 'iodef', envelope, deps.config.limits.maxStanzaBytes).value;
  // One answer owed per peer and incident: a peer repeating its inquiry gets the latest report once, and cannot
  // grow the outbox by asking again and again.
  const owed = deps.store.outbox.find((e) => e.purpose === INQUIRY_ANSWER && e.number === stored.number && e.to === from);
  if (owed) {
    owed.payload = payload;
    deps.store.saveOutbox(owed);
  } else {
    deps.store.enqueue(outboxEntry({ ...envelope, payload, number: stored.number, purpose: INQUIRY_ANSWER }, at));
  }
  noteInquiry(deps.store, stored, from, at);
  await deps.store.commit();
  // After the result has been handed back to the library, so the peer sees the result first.
  setImmediate(() => deps.kickDelivery());
  return true;
}

async function onLegacy(deps: RouteDeps, stanza: Element, payload: Element): Promise<void> {
  const from = senderOf(stanza, deps.config);
  const early = refuseEarly(deps, from, payload);
  if (early) {
    deps.log.info({ from, why: early.text }, 'legacy incident dropped');
    return;
  }
  const notes: string[] = [];
  const decoded = decodeLegacy(payload, { site: domainOf(from), notes });
  if (!decoded.ok) {
    deps.count('rejected-malformed');
    deps.log.info({ from, error: decoded.error }, 'malformed legacy incident dropped');
    return;
  }
  const tooBig = checkIncidentSize(decoded.value, deps.config.limits);
  if (tooBig) {
    deps.count('rejected-too-large');
    deps.log.info({ from, why: tooBig }, 'legacy incident dropped');
    return;
  }
  const trust: TrustDecision = decideTrust(from, deps.config.peers);
  if (!trust.trusted && deps.config.untrusted === 'reject') {
    deps.count('rejected-untrusted');
    deps.log.info({ from, id: decoded.value.id }, 'legacy incident from untrusted sender dropped');
    return;
  }
  if (notes.length) deps.count('received-with-intake-notes');
  const outcome = receiveReport(deps.store, {
    incident: decoded.value,
    from,
    format: 'legacy',
    kind: 'legacy',
    trusted: trust.trusted,
    ...(notes.length ? { notes } : {}),
  });
  deps.count('received-legacy');
  deps.observe?.received('legacy', 'legacy', trust.trusted);
  if (outcome.change === 'unchanged') return;
  await deps.store.commit();
  deps.announce(outcome, 'legacy');
}

/** The sender as the server stamped it; a stanza without `from` comes from our own server. */
function senderOf(stanza: Element, config: Config): string {
  return (stanza.attrs.from as string | undefined) ?? config.xmpp.domain;
}
