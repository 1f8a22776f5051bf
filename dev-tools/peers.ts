/**
 * Test-side peers: sample incidents and a recorder that plays a peer deployment's incident endpoint,
 * acknowledging IODEF IQs and keeping every incident stanza it receives.
 */
import { randomUUID } from 'node:crypto';
import xml from '@xmpp/xml';
import { emptyIncident, type Incident, type IodefKind } from '../src/protocol/incident.js';
import { decodeIodef, encodeIodef, INCIDENT_NS } from '../src/protocol/iodef.js';
import { decodeLegacy, findLegacyPayload } from '../src/protocol/legacy.js';
import type { Client, Element } from './clients.js';
import { withTimeout } from './clients.js';

/** A plausible incident from `site`, with a fresh upper-case UUID (as the XEP's examples write them). */
export function sampleIncident(site: string, overrides: Partial<Incident> = {}): Incident {
  return {
    ...emptyIncident(randomUUID().toUpperCase()),
    site,
    admins: [`admin@${site}`],
    category: 'muc',
    types: ['presence'],
    severity: 2,
    sources: [{ addresses: [{ kind: 'jid', value: 'spammer@abuse.lit' }], counters: [], roles: [] }],
    texts: [{ lang: 'en', text: 'MUC flood from abuse.lit' }],
    times: { begin: '2026-11-27T10:00:00Z', end: null, report: '2026-11-27T10:05:00Z' },
    ...overrides,
  };
}

export interface Received {
  format: 'iodef' | 'legacy';
  kind: IodefKind | 'legacy';
  status?: string;
  incident: Incident;
  stanza: Element;
}

export interface PeerRecorder {
  received: Received[];
  waitFor(match: (r: Received) => boolean, timeoutMs?: number, what?: string): Promise<Received>;
  /** Sends an IODEF payload to `to` and resolves with the IQ result. */
  sendIodef(to: string, kind: IodefKind, incident: Incident): Promise<Element>;
}

export function recordPeer(client: Client): PeerRecorder {
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  const push = (r: Received) => {
    received.push(r);
    waiters.splice(0).forEach((w) => w());
  };
  for (const kind of ['report', 'response'] as const) {
    client.iqCallee.set(INCIDENT_NS, kind, (ctx: { stanza: Element; element: Element }) => {
      const decoded = decodeIodef(ctx.element);
      if (decoded.ok) {
        push({ format: 'iodef', kind, status: ctx.element.attrs.status as string | undefined, incident: decoded.value.incident, stanza: ctx.stanza });
      }
      return true;
    });
  }
  for (const kind of ['inquiry', 'request'] as const) {
    client.iqCallee.get(INCIDENT_NS, kind, (ctx: { stanza: Element; element: Element }) => {
      const decoded = decodeIodef(ctx.element);
      if (decoded.ok) push({ format: 'iodef', kind, incident: decoded.value.incident, stanza: ctx.stanza });
      return true;
    });
  }
  client.on('stanza', (el: Element) => {
    if (!el.is('message')) return;
    const payload = findLegacyPayload(el);
    if (!payload) return;
    const decoded = decodeLegacy(payload);
    if (decoded.ok) push({ format: 'legacy', kind: 'legacy', incident: decoded.value, stanza: el });
  });
  return {
    received,
    waitFor(match, timeoutMs = 8_000, what = 'a matching incident stanza') {
      return withTimeout(
        new Promise<Received>((resolve) => {
          const poll = () => {
            const hit = received.find(match);
            if (hit) resolve(hit);
            else waiters.push(poll);
          };
          poll();
        }),
        timeoutMs,
        `${what}; received: ${JSON.stringify(received.map((r) => [r.kind, r.status, r.incident.id]))}`,
      );
    },
    sendIodef(to, kind, incident) {
      const type = kind === 'report' || kind === 'response' ? 'set' : 'get';
      return client.iqCaller.request(xml('iq', { type, to }, encodeIodef(kind, incident)), 10_000);
    },
  };
}

/**
 * A XEP-0377 abuse report as Prosody's mod_report_forward forwards it (../shared/peers/README.md): a body for humans,
 * the user's `<report/>` with its text and the added `<jid xmlns='urn:xmpp:jid:0'/>`, and the offending message
 * forwarded with its delay stamp. The real module sends it from the server's domain; a test sends it from an
 * account (clients cannot send as a domain) that the bot's trust list names.
 */
export function abuseReportMessage(to: string, reported: string, evidence: string, reason: 'spam' | 'abuse' = 'spam'): Element {
  return xml(
    'message',
    { to },
    xml('body', {}, `${reason.toUpperCase()} REPORT\n\nReported JID: ${reported}`),
    xml(
      'report',
      { xmlns: 'urn:xmpp:reporting:1', reason: `urn:xmpp:reporting:${reason}` },
      xml('text', {}, 'reported by a user'),
      xml('jid', { xmlns: 'urn:xmpp:jid:0' }, reported),
      xml(
        'forwarded',
        { xmlns: 'urn:xmpp:forward:0' },
        xml('delay', { xmlns: 'urn:xmpp:delay', stamp: new Date().toISOString() }),
        xml('message', { xmlns: 'jabber:client', from: `${reported}/x`, type: 'chat' }, xml('body', {}, evidence)),
      ),
    ),
  );
}
