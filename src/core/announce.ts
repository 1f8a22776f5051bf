/**
 * The room announcement for a new or updated incident: one readable message an operator can act on.
 */
import { ipsOf, jidsOf, pickText, type Incident } from '../protocol/incident.js';
import { toIodefSeverity } from '../protocol/severity.js';
import type { StoredIncident } from './store.js';
import type { ReportChange } from './workflow.js';

export interface AnnounceContext {
  change: ReportChange | 'request' | 'response' | 'inquiry-reply';
  /** Set when the report named a discussion room the bot may not join. */
  roomRefused?: string;
}

const HEADLINE: Record<AnnounceContext['change'], string> = {
  new: 'NEW incident',
  updated: 'UPDATED incident',
  unchanged: 'incident (unchanged)',
  'untrusted-update': 'UNTRUSTED UPDATE (not applied) to incident',
  request: 'REQUEST FOR ASSISTANCE on incident',
  response: 'RESPONSE received on incident',
  'inquiry-reply': 'INQUIRY ANSWER about incident',
};

export function formatAnnouncement(stored: StoredIncident, ctx: AnnounceContext): string {
  const i = stored.incident;
  const lines: string[] = [];
  const flag = stored.trusted ? '' : ' ⚠ UNTRUSTED';
  const status = i.status === 'resolved' ? ' [resolved]' : '';
  lines.push(`#${stored.number} ${HEADLINE[ctx.change]}${status}${flag} — ${severityText(i)}, ${classification(i)}`);
  lines.push(`Reported by ${stored.from}${i.admins.length ? ` (admin ${i.admins.join(', ')})` : ''}`);
  const sources = sourcesText(i);
  if (sources) lines.push(`Sources: ${sources}`);
  const locations = jidsOf(i.targets);
  if (locations.length) lines.push(`Locations: ${locations.join(', ')}`);
  const text = pickText(i.texts);
  if (text) lines.push(`“${oneLine(text)}”`);
  const times = timesText(i);
  if (times) lines.push(times);
  const latestRequest = stored.requests.at(-1);
  if (ctx.change === 'request' && latestRequest) {
    lines.push(`Asked of us: ${oneLine(latestRequest.action ?? 'unspecified action')}${latestRequest.texts[0] ? ` — ${oneLine(latestRequest.texts[0].text)}` : ''}`);
  }
  const latestResponse = stored.responses.at(-1);
  if (ctx.change === 'response' && latestResponse) {
    for (const h of latestResponse.history) lines.push(`Done by ${latestResponse.from}: ${oneLine(h.action)} at ${oneLine(h.time)}${h.texts[0] ? ` — ${oneLine(h.texts[0].text)}` : ''}`);
  }
  if (i.solutions.length) lines.push(`Solution: ${i.solutions.map((s) => oneLine(pickText(s.texts) ?? '')).join(' | ')}`);
  if (ctx.roomRefused) lines.push(`(The report names room ${ctx.roomRefused}, which rooms.allow does not allow: announced here instead.)`);
  lines.push(`Id ${i.id}${i.site ? ` at ${i.site}` : ''} — !show #${stored.number}`);
  return lines.join('\n');
}

export function severityText(i: Incident): string {
  return i.severity === undefined ? 'severity unknown' : `severity ${i.severity} (${toIodefSeverity(i.severity)})`;
}

export function classification(i: Incident): string {
  const parts = [oneLine(i.category ?? 'uncategorised'), ...(i.types.length ? [i.types.map((t) => oneLine(t)).join(', ')] : [])];
  const impact = i.impact?.type ? ` [${oneLine(i.impact.type)}]` : '';
  return `${parts.join(': ')}${impact}`;
}

export function sourcesText(i: Incident): string {
  return [...jidsOf(i.sources), ...ipsOf(i.sources)].join(', ');
}

export function timesText(i: Incident): string {
  const t = i.times;
  const parts: string[] = [];
  if (t.begin) parts.push(`began ${t.begin}`);
  if (t.end === null) parts.push('still happening');
  else if (t.end) parts.push(`ended ${t.end}`);
  if (t.report) parts.push(`reported ${t.report}`);
  if (t.detect) parts.push(`detected ${t.detect}`);
  return parts.length ? `Time: ${parts.join(', ')}` : '';
}

/** Peer text is untrusted: keep it to one line so it cannot fake extra bot lines in the room. */
export function oneLine(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
