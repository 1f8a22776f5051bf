/**
 * Shrinking an incident until the stanza that carries it fits the size limit (stanza-size.ts).
 *
 * Applied on the format-neutral model before encoding, for every payload the bot owes a peer (revisions,
 * forwards, originated reports, inquiry answers, requests) and for `!export`. Peer text is re-escaped on the way out,
 * so an incident accepted at 63 KB can need 312 KB of XML: the only honest size is the one measured after encoding,
 * which is what `encode` returns.
 *
 * What gives way: first every free text (descriptions, solution and history texts, category, types, …), clipped
 * to one common length with a visible marker; when that is not enough, every list (addresses, admins, related
 * incidents, history items, solutions, texts, …) keeps only its first items, and what the lists left out is said in
 * the English text ("[left out to fit the stanza size limit: 57 sources, 3 history items]"). Identity (id, site,
 * status) is never touched. The lengths are found by bisection: a few dozen encodings at most, and only for a
 * payload that does not fit as it is.
 */
import type { Incident, LocalizedText, NetworkNode, Solution } from '../protocol/incident.js';
import { cutAt } from './flat-text.js';

export interface Encoded<T> {
  value: T;
  /** Bytes of the whole stanza as it will be routed (see envelopeBytes()). */
  bytes: number;
}

export interface Fitted<T> {
  /** The encoding of the incident that fits, or of the smallest form tried when none does. */
  value: T;
  bytes: number;
  incident: Incident;
  /** Something was clipped or left out. */
  shrunk: boolean;
  /** False when even the smallest form is over the budget: the stanza cannot be sent. */
  fits: boolean;
}

/** Texts are never clipped below this many characters, lists never below one item. */
const MIN_TEXT = 64;
const STEPS = 9;

export function fitIncident<T>(incident: Incident, budget: number, encode: (incident: Incident) => Encoded<T>): Fitted<T> {
  const whole = encode(incident);
  if (whole.bytes <= budget) return { ...whole, incident, shrunk: false, fits: true };
  const longest = Math.max(MIN_TEXT, longestText(incident));
  const longestList = longestListLength(incident);
  const at = (limits: ShrinkLimits) => {
    const shrunk = shrinkIncident(incident, limits);
    return { incident: shrunk, ...encode(shrunk) };
  };
  // Texts give way first (every text keeps its share); lists only when clipping every text is not enough. Then the
  // texts get back what the folded lists left free.
  let items = longestList;
  if (at({ text: MIN_TEXT, items }).bytes > budget) {
    const fewest = at({ text: MIN_TEXT, items: 1 });
    if (fewest.bytes > budget) return { ...fewest, shrunk: true, fits: false };
    items = largest(1, longestList, (n) => at({ text: MIN_TEXT, items: n }).bytes <= budget);
  }
  const text = largest(MIN_TEXT, longest, (t) => at({ text: t, items }).bytes <= budget);
  return { ...at({ text, items }), shrunk: true, fits: true };
}

/** The largest integer in [low, high] for which `fits` holds, given that it holds for `low` (bisection, ≤ STEPS tries). */
function largest(low: number, high: number, fits: (n: number) => boolean): number {
  let lo = low;
  let hi = high;
  for (let step = 0; step < STEPS && lo < hi; step++) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface ShrinkLimits {
  /** Characters kept of each free text. */
  text: number;
  /** Items kept of each list. */
  items: number;
}

/** A copy of the incident with every text and list cut to the limits, and what was left out said in its text. */
export function shrinkIncident(incident: Incident, limits: ShrinkLimits): Incident {
  const left = new LeftOut();
  const text = (value: string) => clipText(value, limits.text);
  const texts = (list: readonly LocalizedText[], what = 'texts') =>
    left.keep(list, limits.items, what).map((t) => ({ ...t, text: text(t.text) }));
  const nodes = (list: readonly NetworkNode[], what: string): NetworkNode[] => {
    const total = list.reduce((n, node) => n + node.addresses.length, 0);
    const kept: NetworkNode[] = [];
    let addresses = 0;
    for (const node of list) {
      if (addresses >= limits.items) break;
      const room = limits.items - addresses;
      const nodeAddresses = node.addresses.slice(0, room);
      addresses += nodeAddresses.length;
      kept.push({ addresses: nodeAddresses, counters: node.counters.slice(0, limits.items), roles: node.roles.slice(0, limits.items).map(text) });
    }
    left.count(total - addresses, what);
    return kept;
  };
  const solutions = left.keep(incident.solutions, limits.items, 'solutions').map(
    (s): Solution => ({ ...s, texts: texts(s.texts, 'solution texts'), sources: nodes(s.sources, 'solution sources') }),
  );
  // The latest triage actions matter most: history keeps its end.
  const history = left.keepLast(incident.history, limits.items, 'history items').map((h) => ({ ...h, action: text(h.action), texts: texts(h.texts, 'history texts') }));
  const shrunk: Incident = {
    ...incident,
    admins: left.keep(incident.admins, limits.items, 'admins'),
    types: left.keep(incident.types, limits.items, 'types').map(text),
    sources: nodes(incident.sources, 'sources'),
    targets: nodes(incident.targets, 'locations'),
    related: left.keep(incident.related, limits.items, 'related incidents'),
    texts: texts(incident.texts),
    solutions,
    history,
  };
  if (incident.category !== undefined) shrunk.category = text(incident.category);
  if (incident.impact?.type !== undefined) shrunk.impact = { ...incident.impact, type: text(incident.impact.type) };
  if (incident.expectation) shrunk.expectation = { action: text(incident.expectation.action), texts: texts(incident.expectation.texts, 'expectation texts') };
  const note = left.note();
  if (note) shrunk.texts = withNote(shrunk.texts, note);
  return shrunk;
}

/** Counts what the lists left out, for one note in the text. */
class LeftOut {
  private readonly counts = new Map<string, number>();

  keep<T>(list: readonly T[], max: number, what: string): T[] {
    this.count(list.length - max, what);
    return list.slice(0, max);
  }

  keepLast<T>(list: readonly T[], max: number, what: string): T[] {
    this.count(list.length - max, what);
    return list.slice(Math.max(0, list.length - max));
  }

  count(n: number, what: string): void {
    if (n > 0) this.counts.set(what, (this.counts.get(what) ?? 0) + n);
  }

  note(): string | undefined {
    if (this.counts.size === 0) return undefined;
    return `[left out to fit the stanza size limit: ${[...this.counts].map(([what, n]) => `${n} ${what}`).join(', ')}]`;
  }
}

/** The note goes at the end of the English (or unlabelled, or first) text; a new English text when there is none. */
function withNote(texts: LocalizedText[], note: string): LocalizedText[] {
  const index = texts.findIndex((t) => t.lang === undefined || t.lang.toLowerCase().startsWith('en'));
  const at = index === -1 ? 0 : index;
  if (texts.length === 0) return [{ lang: 'en', text: note }];
  return texts.map((t, i) => (i === at ? { ...t, text: `${t.text}\n${note}` } : t));
}

/** A text cut to `max` characters with a marker saying how much was cut. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept = cutAt(text, max);
  return `${kept}…[${text.length - kept.length} characters clipped]`;
}

function longestText(incident: Incident): number {
  let longest = 0;
  const see = (t: string | undefined) => {
    if (t !== undefined && t.length > longest) longest = t.length;
  };
  const seeTexts = (list: readonly LocalizedText[]) => list.forEach((t) => see(t.text));
  seeTexts(incident.texts);
  incident.solutions.forEach((s) => seeTexts(s.texts));
  incident.history.forEach((h) => (see(h.action), seeTexts(h.texts)));
  seeTexts(incident.expectation?.texts ?? []);
  see(incident.expectation?.action);
  see(incident.category);
  see(incident.impact?.type);
  incident.types.forEach(see);
  return longest;
}

function longestListLength(incident: Incident): number {
  const addressCount = (nodes: readonly NetworkNode[]) => nodes.reduce((n, node) => n + node.addresses.length, 0);
  return Math.max(
    1,
    incident.admins.length,
    incident.types.length,
    incident.related.length,
    incident.texts.length,
    incident.solutions.length,
    incident.history.length,
    addressCount(incident.sources),
    addressCount(incident.targets),
    ...incident.solutions.map((s) => Math.max(s.texts.length, addressCount(s.sources))),
    ...incident.history.map((h) => h.texts.length),
  );
}
