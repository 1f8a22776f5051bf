import { classification, oneLine, severityText, timesText } from '../src/core/announce.js';
import type { StoredIncident } from '../src/core/store.js';
import { ipsOf, jidsOf, type LocalizedText, type NetworkNode } from '../src/protocol/incident.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { lookup } from './_shared.js';

/** The newest timeline entries shown; older ones are summarised in one line. */
export const TIMELINE_SHOWN = 30;

const isEnglish = (t: LocalizedText) => t.lang === undefined || t.lang.toLowerCase() === 'en' || t.lang.toLowerCase().startsWith('en-');

/** Every text, English (or unlabelled) first, each on one line with its language. */
function textLines(texts: readonly LocalizedText[], label: string): string[] {
  const ordered = [...texts.filter(isEnglish), ...texts.filter((t) => !isEnglish(t))];
  return ordered.map((t) => `${label}${t.lang ? ` [${oneLine(t.lang, 16)}]` : ''}: ${oneLine(t.text, 1000)}`);
}

function nodesText(nodes: readonly NetworkNode[]): string {
  const others = nodes.flatMap((n) => n.addresses.flatMap((a) => (a.kind === 'other' ? [`${a.category}:${a.value}`] : [])));
  return [...jidsOf(nodes), ...ipsOf(nodes), ...others].map((v) => oneLine(v, 200)).join(', ');
}

function firstText(texts: readonly LocalizedText[]): string {
  const t = texts.find(isEnglish) ?? texts[0];
  return t ? ` — ${oneLine(t.text, 300)}` : '';
}

export function describeIncident(stored: StoredIncident, numberOf: (id: string) => number | undefined): string {
  const i = stored.incident;
  const lines: string[] = [];
  const flag = stored.trusted ? '' : ' ⚠ UNTRUSTED';
  lines.push(`#${stored.number} [${stored.state}] status ${i.status}${flag}`);
  lines.push(`Id ${oneLine(i.id, 200)}${i.site ? ` issued by ${oneLine(i.site, 200)}` : ''}`);
  lines.push(
    `Reported by ${oneLine(stored.from, 200)} (${stored.trusted ? 'trusted' : 'untrusted'} sender, ${stored.format}) on ${stored.receivedAt}` +
      (stored.updatedAt !== stored.receivedAt ? `, updated ${stored.updatedAt}` : ''),
  );
  if (i.admins.length) lines.push(`Reporting admins: ${i.admins.map((a) => oneLine(a, 200)).join(', ')}`);
  if (i.room) lines.push(`Discussion room: ${oneLine(i.room, 200)}`);
  lines.push(`Classification: ${classification(i)}, ${severityText(i)}${i.purpose ? `; purpose ${oneLine(i.purpose, 40)}` : ''}`);
  const sources = nodesText(i.sources);
  lines.push(`Sources: ${sources || 'none given'}`);
  const locations = nodesText(i.targets);
  if (locations) lines.push(`Locations: ${locations}`);
  lines.push(...textLines(i.texts, 'Text'));
  const times = timesText(i);
  if (times) lines.push(times);
  if (i.expectation) lines.push(`Expected action: ${oneLine(i.expectation.action, 80)}${firstText(i.expectation.texts)}`);
  for (const r of stored.requests) lines.push(`Request from ${oneLine(r.from, 200)} at ${r.at}: ${oneLine(r.action ?? 'unspecified action', 80)}${firstText(r.texts)}`);
  for (const r of stored.responses) {
    lines.push(`Response from ${oneLine(r.from, 200)} at ${r.at}${firstText(r.texts)}`);
    for (const h of r.history) lines.push(`  done: ${oneLine(h.action, 80)} at ${oneLine(h.time, 40)}${h.who ? ` by ${oneLine(h.who, 200)}` : ''}${firstText(h.texts)}`);
  }
  for (const s of i.solutions) {
    const by = [s.who ? `by ${oneLine(s.who, 200)}` : '', s.time ? `at ${oneLine(s.time, 40)}` : ''].filter(Boolean).join(' ');
    const where = nodesText(s.sources);
    lines.push(`Solution${by ? ` (${by})` : ''}: ${oneLine(s.texts.find(isEnglish)?.text ?? s.texts[0]?.text ?? '', 500)}${where ? ` [sources: ${where}]` : ''}`);
  }
  if (i.related.length) {
    const related = i.related.map((r) => {
      const n = numberOf(r.id);
      return `${n !== undefined ? `#${n} ` : ''}${oneLine(r.id, 200)}${r.site ? ` at ${oneLine(r.site, 200)}` : ''}`;
    });
    lines.push(`Related: ${related.join(', ')}`);
  }
  lines.push(`Known by: ${stored.knownBy.length ? stored.knownBy.map((k) => oneLine(k, 200)).join(', ') : 'nobody else'}`);
  if (stored.versions.length > 1) lines.push(`Versions received: ${stored.versions.length}`);
  lines.push('Timeline:');
  const hidden = Math.max(0, stored.timeline.length - TIMELINE_SHOWN);
  if (hidden > 0) lines.push(`  (${hidden} earlier entries not shown)`);
  for (const t of stored.timeline.slice(hidden)) {
    lines.push(`  ${t.at} ${oneLine(t.who, 200)} ${oneLine(t.action, 80)}${t.text ? ` — ${oneLine(t.text, 300)}` : ''}`);
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
    ctx.reply(describeIncident(stored, numberOf));
  },
});
