/**
 * XEP-0377 abuse reports as servers forward them (Prosody's mod_report_forward, see ../shared/peers/README.md):
 * a `<message>` with `<report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'>`, the reported
 * `<jid xmlns='urn:xmpp:jid:0'>`, an optional `<text>` and optional `<forwarded>` evidence.
 *
 * Many reports about one JID are one incident: a report about a JID with an open abuse incident is added to it
 * (count, reporters, the last few pieces of evidence) instead of making a new one.
 */
import { randomUUID } from 'node:crypto';
import type { Element } from '@xmpp/xml';
import { flat } from '../core/flat-text.js';
import type { IncidentStore, StoredIncident } from '../core/store.js';
import { editableIncident } from '../core/store.js';
import { emptyIncident, type Incident } from '../protocol/incident.js';
import { bareJid, checkJid, domainOf } from '../protocol/validate.js';
import type { AbuseEvidence } from './abuse-tally.js';

export const REPORTING_NS = 'urn:xmpp:reporting:1';
const JID_NS = 'urn:xmpp:jid:0';
const FORWARD_NS = 'urn:xmpp:forward:0';
const DELAY_NS = 'urn:xmpp:delay';

/** Evidence kept per incident (the newest), and the longest text kept of each. */
export const EVIDENCE_KEPT = 5;
export const EVIDENCE_TEXT_MAX = 300;

export interface AbuseReport {
  /** The reported bare JID (lower-cased). */
  jid: string;
  reason: 'spam' | 'abuse' | 'other';
  text?: string;
  evidence?: Omit<AbuseEvidence, 'reporter' | 'at'>;
}

/** The `<report/>` of a message, if it carries one. */
export function findAbuseReport(stanza: Element): Element | undefined {
  return stanza.getChild('report', REPORTING_NS) ?? undefined;
}

/** Reads a forwarded abuse report; an error string says what is wrong with it. */
export function decodeAbuseReport(stanza: Element): AbuseReport | string {
  const report = findAbuseReport(stanza);
  if (!report) return 'no <report xmlns="urn:xmpp:reporting:1"/>';
  // mod_report_forward adds <jid/> inside the report; accept it beside the report too (liberal intake).
  const jidText = (report.getChildText('jid', JID_NS) ?? stanza.getChildText('jid', JID_NS) ?? '').trim();
  if (!jidText) return 'the report names no JID (<jid xmlns="urn:xmpp:jid:0"/>)';
  const bad = checkJid(jidText);
  if (bad) return `reported JID: ${bad}`;
  const reasonAttr = String(report.attrs.reason ?? '');
  const reason = reasonAttr.endsWith(':spam') ? 'spam' : reasonAttr.endsWith(':abuse') ? 'abuse' : 'other';
  const text = report.getChildText('text', REPORTING_NS) ?? report.getChildText('text') ?? undefined;
  const forwarded = report.getChild('forwarded', FORWARD_NS) ?? stanza.getChild('forwarded', FORWARD_NS);
  let evidence: AbuseReport['evidence'];
  if (forwarded) {
    const message = forwarded.getChild('message');
    const stamp = forwarded.getChild('delay', DELAY_NS)?.attrs.stamp as string | undefined;
    const sender = message?.attrs.from as string | undefined;
    const body = message?.getChildText('body') ?? undefined;
    evidence = {
      ...(sender ? { sender: flat(sender, 300) } : {}),
      ...(stamp ? { stamp: flat(stamp, 40) } : {}),
      ...(body ? { text: flat(body, EVIDENCE_TEXT_MAX) } : {}),
    };
  }
  return {
    jid: bareJid(jidText).toLowerCase(),
    reason,
    ...(text?.trim() ? { text: flat(text, EVIDENCE_TEXT_MAX) } : {}),
    ...(evidence ? { evidence } : {}),
  };
}

export interface AbuseOutcome {
  stored: StoredIncident;
  change: 'new' | 'grouped';
}

/**
 * Files one report: added to the open abuse incident about the same JID, or a new incident. The caller commits.
 * `reporter` is the sending server (the stanza's `from`, as the server stamped it).
 */
export function fileAbuseReport(
  store: IncidentStore,
  report: AbuseReport,
  arrival: { from: string; trusted: boolean; at: string },
): AbuseOutcome {
  const reporter = domainOf(arrival.from);
  const evidence: AbuseEvidence | undefined = report.evidence || report.text
    ? { reporter, at: arrival.at, ...report.evidence, ...(report.evidence?.text ? {} : report.text ? { text: report.text } : {}) }
    : undefined;
  const open = store.findOpenBySource(report.jid, (s) => s.abuse !== undefined && s.abuse.reason === report.reason);
  if (open?.abuse) {
    const tally = open.abuse;
    tally.count += 1;
    if (!tally.reporters.includes(reporter)) tally.reporters.push(reporter);
    if (evidence) tally.evidence = [...tally.evidence, evidence].slice(-EVIDENCE_KEPT);
    // An untrusted report never makes a trusted incident less so, nor the other way round: the first decides.
    open.updatedAt = arrival.at;
    open.timeline.push({ at: arrival.at, who: arrival.from, action: 'abuse report', text: `report ${tally.count} about ${report.jid}` });
    editableIncident(open).times.report = arrival.at;
    store.save(open);
    return { stored: open, change: 'grouped' };
  }
  const incident: Incident = {
    ...emptyIncident(randomUUID()),
    site: reporter,
    purpose: 'reporting',
    category: 'stanzas',
    types: [report.reason],
    sources: [{ addresses: [{ kind: 'jid', value: report.jid }], counters: [], roles: [] }],
    texts: [{ text: `XEP-0377 ${report.reason} report about ${report.jid}${report.text ? `: ${report.text}` : ''}` }],
    times: { report: arrival.at, ...(report.evidence?.stamp ? { detect: report.evidence.stamp } : {}) },
  };
  const stored = store.add({
    incident,
    state: 'open',
    trusted: arrival.trusted,
    from: arrival.from,
    format: 'iodef',
    receivedAt: arrival.at,
    updatedAt: arrival.at,
    versions: [{ at: arrival.at, from: arrival.from, format: 'iodef', kind: 'report', incident }],
    timeline: [{ at: arrival.at, who: arrival.from, action: 'abuse report', text: `about ${report.jid}` }],
    knownBy: [],
    requests: [],
    responses: [],
    abuse: { jid: report.jid, reason: report.reason, count: 1, reporters: [reporter], evidence: evidence ? [evidence] : [] },
  });
  return { stored, change: 'new' };
}
