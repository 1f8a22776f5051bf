import { ADDRESS_CHARS, classification, severityText, timesText } from '../src/core/announce.js';
import { listedLines, mitigationLines } from '../src/mitigation/describe.js';
import { followedListsOf } from '../src/mitigation/rtbl-follow.js';
import { clip, foldList, line } from '../src/core/flat-text.js';
import type { StoredIncident } from '../src/core/store.js';
import { ipsOf, jidsOf, type LocalizedText, type NetworkNode } from '../src/protocol/incident.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { ageOf } from '../src/triage/list-query.js';
import { lookup } from './_shared.js';

/** The newest timeline entries shown; older ones are summarised in one line. */
export const TIMELINE_SHOWN = 30;
/** Addresses listed in one line before "… and N more". */
export const ADDRESSES_SHOWN = 20;
/** Texts (per language), requests, responses, solutions and related incidents shown; the rest are counted. */
export const ITEMS_SHOWN = 10;

const isEnglish = (t: LocalizedText) => t.lang === undefined || t.lang.toLowerCase() === 'en' || t.lang.toLowerCase().startsWith('en-');

/** Every text, English (or unlabelled) first, each on one line with its language. */
function textLines(texts: readonly LocalizedText[], label: string): string[] {
  const ordered = [...texts.filter(isEnglish), ...texts.filter((t) => !isEnglish(t))];
  const lines = ordered.slice(0, ITEMS_SHOWN).map((t) => line`${label}${t.lang ? line` [${clip(t.lang, 16)}]` : ''}: ${clip(t.text, 1000)}`);
  return [...lines, ...more(ordered.length, `${label.toLowerCase()}s`)];
}

/** "… and 3 more solutions" when a list was cut at ITEMS_SHOWN. */
function more(total: number, what: string): string[] {
  return total > ITEMS_SHOWN ? [line`… and ${total - ITEMS_SHOWN} more ${what}`] : [];
}

function nodesText(nodes: readonly NetworkNode[]): string {
  const others = nodes.flatMap((n) => n.addresses.flatMap((a) => (a.kind === 'other' ? [`${a.category}:${a.value}`] : [])));
  return foldList([...jidsOf(nodes), ...ipsOf(nodes), ...others], { max: ADDRESSES_SHOWN, each: ADDRESS_CHARS });
}

function firstText(texts: readonly LocalizedText[]): string {
  const t = texts.find(isEnglish) ?? texts[0];
  return t ? line` — ${clip(t.text, 300)}` : '';
}

const jid = (value: string) => clip(value, ADDRESS_CHARS);

/** `2026-12-02 15:10 UTC (3 min ago)`; text that is not a time is shown as it is. */
export function humanTime(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return line`${clip(iso, 40)}`;
  const d = new Date(t).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, 16)} UTC (${ageOf(iso, now)})`;
}

export function describeIncident(stored: StoredIncident, numberOf: (id: string) => number | undefined, now = Date.now()): string {
  const i = stored.incident;
  const lines: string[] = [];
  const flag = stored.trusted ? '' : ' ⚠ UNTRUSTED';
  const owner = i.owner ? line` · owner ${jid(i.owner)}` : '';
  // One header line; XEP-0393 *bold* for the state, which reads plainly where it is not rendered.
  lines.push(line`#${stored.number} *${stored.state}* — ${severityText(i)}, ${classification(i)}${owner}${flag}`);
  lines.push(line`Id ${clip(i.id, 256)}${i.site ? line` issued by ${jid(i.site)}` : ''}`);
  const updated = stored.updatedAt !== stored.receivedAt ? line`, updated ${humanTime(stored.updatedAt, now)}` : '';
  lines.push(
    line`Reported by ${jid(stored.from)} (${stored.trusted ? 'trusted' : 'untrusted'} sender, ${stored.format}) on ${humanTime(stored.receivedAt, now)}${updated}`,
  );
  if (i.admins.length) lines.push(line`Reporting admins: ${foldList(i.admins, { max: ITEMS_SHOWN, each: ADDRESS_CHARS })}`);
  if (i.room) lines.push(line`Discussion room: ${jid(i.room)}`);
  if (i.purpose) lines.push(line`Purpose: ${clip(i.purpose, 40)}`);
  const sources = nodesText(i.sources);
  lines.push(line`Sources: ${sources || 'none given'}`);
  const locations = nodesText(i.targets);
  if (locations) lines.push(line`Locations: ${locations}`);
  lines.push(...textLines(i.texts, 'Text'));
  const times = timesText(i);
  if (times) lines.push(times);
  if (i.expectation) lines.push(line`Expected action: ${clip(i.expectation.action, 80)}${firstText(i.expectation.texts)}`);
  for (const r of stored.requests.slice(-ITEMS_SHOWN)) {
    lines.push(line`Request from ${jid(r.from)} at ${clip(r.at, 40)}: ${clip(r.action ?? 'unspecified action', 80)}${firstText(r.texts)}`);
  }
  lines.push(...more(stored.requests.length, 'earlier requests'));
  for (const r of stored.responses.slice(-ITEMS_SHOWN)) {
    lines.push(line`Response from ${jid(r.from)} at ${clip(r.at, 40)}${firstText(r.texts)}`);
    for (const h of r.history.slice(0, ITEMS_SHOWN)) {
      lines.push(line`  done: ${clip(h.action, 80)} at ${clip(h.time, 40)}${h.who ? line` by ${jid(h.who)}` : ''}${firstText(h.texts)}`);
    }
    lines.push(...more(r.history.length, 'actions'));
  }
  lines.push(...more(stored.responses.length, 'earlier responses'));
  for (const s of i.solutions.slice(0, ITEMS_SHOWN)) {
    const by = [s.who ? line`by ${jid(s.who)}` : '', s.time ? line`at ${clip(s.time, 40)}` : ''].filter(Boolean).join(' ');
    const where = nodesText(s.sources);
    const text = s.texts.find(isEnglish)?.text ?? s.texts[0]?.text ?? '';
    lines.push(line`Solution${by ? ` (${by})` : ''}: ${clip(text, 500)}${where ? line` [sources: ${where}]` : ''}`);
  }
  lines.push(...more(i.solutions.length, 'solutions'));
  if (i.related.length) {
    const related = i.related.map((r) => {
      const n = numberOf(r.id);
      return line`${n !== undefined ? `#${n} ` : ''}${clip(r.id, 200)}${r.site ? line` at ${jid(r.site)}` : ''}`;
    });
    lines.push(line`Related: ${foldList(related, { max: ITEMS_SHOWN, each: 500 })}`);
  }
  lines.push(line`Known by: ${stored.knownBy.length ? foldList(stored.knownBy, { max: ITEMS_SHOWN, each: ADDRESS_CHARS }) : 'nobody else'}`);
  if (stored.versions.length > 1) lines.push(line`Versions received: ${stored.versions.length}`);
  lines.push(...mitigationLines(stored));
  if (stored.intakeNotes?.length) {
    // Liberal intake: what was odd in the document is shown, not silently lost or refused.
    lines.push(line`Intake notes (odd but accepted, ${stored.intakeNotes.length}):`);
    for (const note of stored.intakeNotes.slice(0, 20)) lines.push(line`  ${clip(note, 300)}`);
  }
  lines.push('Timeline:');
  const hidden = Math.max(0, stored.timeline.length - TIMELINE_SHOWN);
  if (hidden > 0) lines.push(line`  (${hidden} earlier entries not shown)`);
  for (const t of stored.timeline.slice(hidden)) {
    lines.push(line`  ${humanTime(t.at, now)} ${jid(t.who)} ${clip(t.action, 80)}${t.text ? line` — ${clip(t.text, 300)}` : ''}`);
  }
  return lines.join('\n');
}

export default defineCommand({
  name: 'show',
  args: '<ref>',
  summary: 'shows everything about one incident, with its timeline',
  details: 'A <ref> is #N, N, a full UUID or a unique UUID prefix of at least 8 characters.',
  access: 'anyone',
  where: 'both',
  run(ctx) {
    if (ctx.args.length !== 1) throw new UsageError(ctx.args.length ? 'give one reference' : 'missing incident reference');
    const stored = lookup(ctx, ctx.args[0]!);
    if (!stored) return;
    const store = ctx.services.store;
    const numberOf = (id: string) => store.numberOf(id.toLowerCase()) ?? store.numberOfId(id);
    const listed = listedLines(stored, followedListsOf(ctx.services.config));
    ctx.reply([describeIncident(stored, numberOf), ...listed].join('\n'));
  },
});
