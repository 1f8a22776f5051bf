/**
 * Peer profiles: what a peer's software accepts, where it is stricter than XEP-0268 and RFC 5070.
 *
 * `metronome` — Metronome IM 4.0.5's mod_incidents_handling raises an error and sends no reply at all unless every
 * source Node has a Counter, a target System exists, every target Node has a NodeRole, and there is no History
 * (see ../shared/peers/README.md). So for it: a Counter `event`=1 on nodes without one (one reported event), a
 * target System naming our own server when there is none, a NodeRole `messaging` on target nodes without one, and
 * the history and solutions folded into the Description as dated lines (as the legacy format carries them).
 */
import type { Element } from '@xmpp/xml';
import type { HistoryItem, Incident, LocalizedText, NetworkNode, Solution } from './incident.js';
import { decodeIodef, encodeIodef } from './iodef.js';

export const PEER_PROFILES = ['standard', 'metronome'] as const;
export type PeerProfile = (typeof PEER_PROFILES)[number];

/** The profile a XEP-0092 software name implies (undefined: nothing known about it). */
export function profileOfSoftware(name: string | undefined): PeerProfile | undefined {
  if (name === undefined) return undefined;
  return /metronome/i.test(name) ? 'metronome' : 'standard';
}

/** The incident as Metronome 4.0.5 accepts it (see the top comment). */
export function metronomeView(incident: Incident, ourDomain: string): Incident {
  const sources = incident.sources.map((n) => (n.counters.length ? n : { ...n, counters: [{ type: 'event', value: 1 }] }));
  const targets: NetworkNode[] = incident.targets.length
    ? incident.targets.map((n) => (n.roles.length ? n : { ...n, roles: ['messaging'] }))
    : [{ addresses: [{ kind: 'jid', value: ourDomain }], counters: [], roles: ['messaging'] }];
  const lines = [...incident.history.map(historyLine), ...incident.solutions.map(solutionLine)];
  return { ...incident, sources, targets, texts: withLines(incident.texts, lines), history: [], solutions: [] };
}

/**
 * The payload as the peer's profile wants it. Reports, requests and responses are reshaped; anything else (an
 * inquiry, a legacy `<incident/>`) goes as it is.
 */
export function shapeForProfile(payload: Element, profile: PeerProfile, ourDomain: string): Element {
  if (profile === 'standard' || payload.name === 'inquiry' || payload.name === 'incident') return payload;
  const decoded = decodeIodef(payload);
  if (!decoded.ok) return payload;
  const { kind, incident } = decoded.value;
  return encodeIodef(kind, metronomeView(incident, ourDomain));
}

function withLines(texts: readonly LocalizedText[], lines: string[]): LocalizedText[] {
  if (lines.length === 0) return [...texts];
  const joined = lines.join('\n');
  const out = [...texts];
  const index = out.findIndex((t) => t.lang === undefined || t.lang.toLowerCase().startsWith('en'));
  if (index === -1) out.push({ lang: 'en', text: joined });
  else out[index] = { ...out[index]!, text: `${out[index]!.text}\n\n${joined}` };
  return out;
}

function historyLine(item: HistoryItem): string {
  const text = item.texts[0]?.text;
  return `[${item.time}] ${item.who ?? 'unknown'}: ${item.action}${text ? ` — ${text}` : ''}`;
}

function solutionLine(solution: Solution): string {
  const text = solution.texts[0]?.text;
  return `[${solution.time ?? 'undated'}] ${solution.who ?? 'unknown'}: solution${text ? ` — ${text}` : ''}`;
}
