/**
 * The room announcement for a new or updated incident: one readable message an operator can act on.
 *
 * Every line is built with the `line` template (flat-text.ts), which flattens each value it puts in: nothing a peer
 * sent can start a line of its own. Long lists are folded ("… and 57 more") and long texts clipped, so an
 * announcement stays a few KB whatever the report holds.
 */
import { ipsOf, jidsOf, pickText, type Incident } from '../protocol/incident.js';
import { toIodefSeverity } from '../protocol/severity.js';
import { clip, flat, foldList, line } from './flat-text.js';
import type { StoredIncident } from './store.js';
import type { ReportChange } from './workflow.js';
import { updateLine } from './announce-update.js';

const ROOM_REFUSED: Record<NonNullable<AnnounceContext['roomRefusedWhy']>, string> = {
  untrusted: 'an untrusted sender never makes me join a room',
  'not-allowed': 'rooms.allow does not allow it',
  'nick-held': 'someone there uses my nick (the admins are told)',
  'cannot-join': 'the room refused me or did not answer',
};

export interface AnnounceContext {
  change: ReportChange | 'request' | 'response' | 'inquiry-reply';
  /** Set when the report named a discussion room the bot did not join, and why. */
  roomRefused?: string;
  roomRefusedWhy?: 'not-allowed' | 'untrusted' | 'nick-held' | 'cannot-join';
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

/** Addresses (JIDs, IPs) shown in one line of an announcement before "… and N more". */
export const ADDRESSES_SHOWN = 10;
/** Characters shown of one address, id or JID. */
export const ADDRESS_CHARS = 200;
/** Characters shown of the incident's text. */
export const TEXT_CHARS = 500;

const addresses = (items: readonly string[]) => foldList(items, { max: ADDRESSES_SHOWN, each: ADDRESS_CHARS });

export function formatAnnouncement(stored: StoredIncident, ctx: AnnounceContext): string {
  const i = stored.incident;
  const lines: string[] = [];
  const update = ctx.change === 'updated' ? updateLine(stored) : undefined;
  if (update) return [update, ...refusedNote(ctx)].join('\n');
  const flag = stored.trusted ? '' : ' ⚠ UNTRUSTED';
  const status = i.status === 'resolved' ? ' [resolved]' : '';
  lines.push(line`#${stored.number} ${HEADLINE[ctx.change]}${status}${flag} — ${severityText(i)}, ${classification(i)}`);
  const admins = i.admins.length ? line` (admin ${foldList(i.admins, { max: 3, each: ADDRESS_CHARS })})` : '';
  lines.push(line`Reported by ${clip(stored.from, ADDRESS_CHARS)}${admins}`);
  const sources = sourcesText(i);
  if (sources) lines.push(line`Sources: ${sources}`);
  const locations = jidsOf(i.targets);
  if (locations.length) lines.push(line`Locations: ${addresses(locations)}`);
  const text = pickText(i.texts);
  if (text) lines.push(line`“${clip(text, TEXT_CHARS)}”`);
  const times = timesText(i);
  if (times) lines.push(times);
  const latestRequest = stored.requests.at(-1);
  if (ctx.change === 'request' && latestRequest) {
    const said = latestRequest.texts[0] ? line` — ${clip(latestRequest.texts[0].text, TEXT_CHARS)}` : '';
    lines.push(line`Asked of us: ${clip(latestRequest.action ?? 'unspecified action', 80)}${said}`);
  }
  const latestResponse = stored.responses.at(-1);
  if (ctx.change === 'response' && latestResponse) {
    for (const h of latestResponse.history.slice(0, 5)) {
      const said = h.texts[0] ? line` — ${clip(h.texts[0].text, TEXT_CHARS)}` : '';
      lines.push(line`Done by ${clip(latestResponse.from, ADDRESS_CHARS)}: ${clip(h.action, 80)} at ${clip(h.time, 40)}${said}`);
    }
    if (latestResponse.history.length > 5) lines.push(line`… and ${latestResponse.history.length - 5} more actions — !show #${stored.number}`);
  }
  if (i.solutions.length) {
    const solutions = i.solutions.map((s) => pickText(s.texts) ?? '');
    lines.push(line`Solution: ${foldList(solutions, { max: 3, each: TEXT_CHARS, separator: ' | ' })}`);
  }
  lines.push(...refusedNote(ctx));
  lines.push(line`Id ${clip(i.id, ADDRESS_CHARS)}${i.site ? line` at ${clip(i.site, ADDRESS_CHARS)}` : ''} — !show #${stored.number}`);
  return lines.join('\n');
}

/** Said when the report named a room the bot did not join (the caller says it once per room per day). */
function refusedNote(ctx: AnnounceContext): string[] {
  if (!ctx.roomRefused) return [];
  const why = ROOM_REFUSED[ctx.roomRefusedWhy ?? 'not-allowed'];
  return [line`(The report names room ${clip(ctx.roomRefused, ADDRESS_CHARS)}, not joined: ${why}. Announced here instead.)`];
}

export function severityText(i: Incident): string {
  return i.severity === undefined ? 'severity unknown' : line`severity ${i.severity} (${toIodefSeverity(i.severity)})`;
}

export function classification(i: Incident): string {
  const category = flat(i.category ?? 'uncategorised', 80);
  const types = i.types.length ? line`: ${foldList(i.types, { max: 5, each: 80 })}` : '';
  const impact = i.impact?.type ? line` [${clip(i.impact.type, 80)}]` : '';
  return `${category}${types}${impact}`;
}

/** Source JIDs then IPs, folded after ADDRESSES_SHOWN. */
export function sourcesText(i: Incident): string {
  return addresses([...jidsOf(i.sources), ...ipsOf(i.sources)]);
}

export function timesText(i: Incident): string {
  const t = i.times;
  const parts: string[] = [];
  if (t.begin) parts.push(line`began ${clip(t.begin, 40)}`);
  if (t.end === null) parts.push('still happening');
  else if (t.end) parts.push(line`ended ${clip(t.end, 40)}`);
  if (t.report) parts.push(line`reported ${clip(t.report, 40)}`);
  if (t.detect) parts.push(line`detected ${clip(t.detect, 40)}`);
  return parts.length ? `Time: ${parts.join(', ')}` : '';
}

/** @deprecated Kept for callers not yet moved to `line`/`flat` (flat-text.ts): the same flattening, clipped to `max`. */
export function oneLine(text: string, max = 500): string {
  return flat(text, max);
}
