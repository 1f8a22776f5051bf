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
import type { HistoryItem, Incident, LocalizedText } from '../protocol/incident.js';
import { encodeIodef } from '../protocol/iodef.js';
import { encodeLegacy } from '../protocol/legacy.js';
import { bareJid } from '../protocol/validate.js';
import type { Config, PeerConfig } from './config.js';
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
