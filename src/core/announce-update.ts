/**
 * The announcement of an update (issue 15 §5): one line saying what changed since the version before, not the
 * whole incident again (`#2 updated by peer.example: resolved — solution: accounts disabled`). `!show` has the rest.
 * Every peer-supplied piece goes through the `line` template (flattened, clipped).
 */
import { ipsOf, jidsOf, pickText, type Incident } from '../protocol/incident.js';
import { domainOf } from '../protocol/validate.js';
import { clip, foldList, line } from './flat-text.js';
import type { StoredIncident } from './store.js';

const TEXT_CHARS = 200;

/** What changed from `before` to `after`, as short phrases; empty when nothing shown here changed. */
export function changesOf(before: Incident, after: Incident): string[] {
  const out: string[] = [];
  // `new` → `updated` is how every update is marked: not news.
  if (after.status !== before.status && after.status && after.status !== 'updated' && after.status !== 'new') out.push(after.status === 'resolved' ? 'resolved' : line`status ${clip(after.status, 40)}`);
  if (after.severity !== before.severity) out.push(`severity ${before.severity ?? '?'}→${after.severity ?? '?'}`);
  const kind = (i: Incident) => [i.category ?? '', ...i.types].join('/');
  if (kind(after) !== kind(before)) out.push(line`now ${clip(kind(after), 120)}`);
  const addressesOf = (i: Incident) => [...jidsOf(i.sources), ...ipsOf(i.sources)];
  const known = new Set(addressesOf(before));
  const added = addressesOf(after).filter((a) => !known.has(a));
  if (added.length) out.push(line`${added.length} new source${added.length === 1 ? '' : 's'}: ${foldList(added, { max: 3, each: 80 })}`);
  const text = pickText(after.texts);
  if (text !== undefined && text !== pickText(before.texts)) out.push(line`text “${clip(text, TEXT_CHARS)}”`);
  const solutionTexts = (i: Incident) => i.solutions.map((s) => pickText(s.texts) ?? '');
  const oldSolutions = new Set(solutionTexts(before));
  const newSolutions = solutionTexts(after).filter((s) => s && !oldSolutions.has(s));
  if (newSolutions.length) out.push(line`solution: ${foldList(newSolutions, { max: 2, each: TEXT_CHARS, separator: ' | ' })}`);
  if ((after.owner ?? '') !== (before.owner ?? '')) out.push(after.owner ? line`owner ${clip(after.owner, 80)}` : 'no owner');
  if (after.times.end !== before.times.end) out.push(after.times.end === null ? 'still happening' : after.times.end ? line`ended ${clip(after.times.end, 40)}` : 'end time removed');
  return out;
}

/** The one-line update, or undefined when there is no earlier version to compare with (announce it whole). */
export function updateLine(stored: StoredIncident): string | undefined {
  const previous = stored.versions.at(-2)?.incident;
  if (!previous) return undefined;
  const changes = changesOf(previous, stored.incident);
  const flag = stored.trusted ? '' : ' ⚠ UNTRUSTED';
  const what = changes.length ? changes.join(' — ') : 'details changed';
  return line`#${stored.number} updated by ${clip(domainOf(stored.from) || stored.from, 80)}${flag}: ${what} — !show #${stored.number}`;
}
