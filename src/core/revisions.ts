/**
 * Revised reports: who is owed one after a triage action, and what each of them receives, in its own format.
 *
 * Recipients are the peers that know the incident (its reporter and everyone it was forwarded or sent to), but
 * only trusted ones: an untrusted sender learns nothing about how we handle its report.
 *
 * Legacy peers have no status or history on the wire. The most faithful legacy form of a triage action is the
 * same incident (same id, same description) with the action appended to its English text as a dated line, e.g.
 * `[2026-11-27T10:00:00Z] alice@example.org: status-triage — looking into it`; `!solve` adds a `<solution>`.
 */
import type { Element } from '@xmpp/xml';
import type { HistoryItem, Incident, IodefKind, LocalizedText } from '../protocol/incident.js';
import { encodeIodef } from '../protocol/iodef.js';
import { encodeLegacy } from '../protocol/legacy.js';
import { bareJid } from '../protocol/validate.js';
import type { Config, PeerConfig } from './config.js';
import { fitIncident, type Fitted } from './fit-incident.js';
import { envelopeBytes, utf8Bytes } from './stanza-size.js';
import type { StoredIncident, WireFormat } from './store.js';
import { matchPeer } from './trust.js';

export interface Recipient {
  jid: string;
  format: WireFormat;
}

/** The format to speak to a peer: its configured one, else the one it reported this incident in, else IODEF. */
export function formatFor(jid: string, stored: StoredIncident | undefined, peers: readonly PeerConfig[]): WireFormat {
  const configured = matchPeer(jid, peers)?.format;
  if (configured) return configured;
  if (stored && bareJid(stored.from) === bareJid(jid)) return stored.format;
  return 'iodef';
}

/** Trusted peers that know the incident, each once, never ourselves. */
export function revisionRecipients(stored: StoredIncident, config: Config): Recipient[] {
  const self = `${config.xmpp.username}@${config.xmpp.domain}`.toLowerCase();
  const seen = new Set<string>();
  const out: Recipient[] = [];
  for (const jid of stored.knownBy) {
    const key = jid.toLowerCase();
    if (seen.has(key) || bareJid(jid) === self) continue;
    seen.add(key);
    if (matchPeer(jid, config.peers)?.trust !== 'trusted') continue;
    out.push({ jid, format: formatFor(jid, stored, config.peers) });
  }
  return out;
}

/** The payload a peer receives about an incident: an IODEF `<report/>` or a legacy `<incident/>`. */
export function reportPayload(incident: Incident, format: WireFormat): Element {
  return format === 'iodef' ? encodeIodef('report', incident) : encodeLegacy(legacyView(incident));
}

/** Where an owed payload goes and in which stanza: what the size of its envelope depends on. */
export interface PeerEnvelope {
  to: string;
  stanza: 'iq' | 'message';
  iqType?: 'get' | 'set';
}

/**
 * The payload owed to a peer, serialised, shrunk when needed so that the stanza carrying it stays under
 * `maxStanzaBytes` (fit-incident.ts). Every payload for a peer is made here: reports (revisions, forwards, originated
 * reports, inquiry answers) in the peer's format, and IODEF requests and inquiries. `fits` is false when even the
 * smallest form is too big: delivery then gives it up with a line in the room instead of sending it.
 */
export function peerPayload(kind: IodefKind, incident: Incident, format: WireFormat, envelope: PeerEnvelope, maxStanzaBytes: number): Fitted<string> {
  const around =
    envelope.stanza === 'iq' ? envelopeBytes('iq', { to: envelope.to, type: envelope.iqType ?? 'set' }) : envelopeBytes('message', { to: envelope.to });
  const encode = (candidate: Incident) => {
    const payload = (kind === 'report' ? reportPayload(candidate, format) : encodeIodef(kind, candidate)).toString();
    return { value: payload, bytes: around + utf8Bytes(payload) };
  };
  return fitIncident(incident, maxStanzaBytes, encode);
}

/** The incident as a legacy peer should see it: the history folded into the English text (see top comment). */
export function legacyView(incident: Incident): Incident {
  if (incident.history.length === 0) return incident;
  const lines = incident.history.map(historyLine).join('\n');
  const texts: LocalizedText[] = [...incident.texts];
  const index = texts.findIndex((t) => t.lang === undefined || t.lang.toLowerCase().startsWith('en'));
  if (index === -1) texts.push({ lang: 'en', text: lines });
  else texts[index] = { ...texts[index]!, text: `${texts[index]!.text}\n\n${lines}` };
  return { ...incident, texts };
}

function historyLine(item: HistoryItem): string {
  const text = item.texts[0]?.text;
  return `[${item.time}] ${item.who ?? 'unknown'}: ${item.action}${text ? ` — ${text}` : ''}`;
}
