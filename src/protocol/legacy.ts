/**
 * The legacy XEP-0268 codec (v0.2/v0.3, namespace `urn:xmpp:incident:0`): a `<message>` carrying
 * `<incident id=UUID>` with a `<description>` and zero or more `<solution>`s. Pure: no I/O.
 *
 * Liberal in what it accepts (unknown elements, stray text such as the `...` in the XEP's own solution example,
 * repeated containers and a missing `<description>` are all fine). Since issue 12 a value that cannot be
 * understood does not cost the report either: a date that is not XEP-0082, an IP that does not parse, a severity
 * out of range, a related id that is not a UUID, an empty `<admin/>`, a second value for a single-valued element
 * are accepted and written as *intake notes* (`ctx.notes`), as the IODEF decoder does. Refused: what cannot be
 * identified (not `<incident>`, wrong namespace, no UUID `id`) or addressed (a JID that is not one: the bot would
 * join or write to it). Strict and tidy in what it sends.
 */
import { emptyIncident, type Address, type Incident, type LocalizedText, type NetworkNode, type Solution } from './incident.js';
import {
  checkDateTime,
  checkJid,
  checkSeverity,
  checkUuid,
  clip,
  DecodeFailure,
  fail,
  ok,
  parseIp,
  type Decoded,
} from './validate.js';
import { checkShape, childrenNamed, Element, firstChild, nsOf, textOf } from './xml.js';

export const LEGACY_NS = 'urn:xmpp:incident:0';
export { encodeLegacy } from './legacy-encode.js';

const IODEF_WRAPPER_NS = 'urn:xmpp:incident:2';

/** The incident:0 `<incident>` child of a message, or undefined. */
export function findLegacyPayload(message: Element): Element | undefined {
  return firstChild(message, 'incident', LEGACY_NS);
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes an `<incident xmlns='urn:xmpp:incident:0' id=…>` element. `ctx.site` is the sender's domain: legacy
 * carries no issuing site, so the caller supplies it. Never throws: hostile shapes and bad values come back as a
 * failure whose path names the element (`incident/description/time/begin`).
 *
 * Status: legacy has no status on the wire. An incident with at least one `<solution>` decodes as 'resolved';
 * any other as 'new', and the receiving workflow turns that into 'updated' when it already knows the id.
 */
export function decodeLegacy(el: Element, ctx: { site?: string; notes?: string[] } = {}): Decoded<Incident> {
  notes = ctx.notes ?? [];
  try {
    return decodeChecked(el, ctx);
  } catch (err) {
    if (err instanceof DecodeFailure) return fail(err.path, err.reason);
    // A bug or an exotic input we did not foresee must still not take the bot down.
    return fail('incident', `cannot decode: ${clip(err instanceof Error ? err.message : String(err), 200)}`);
  }
}

function decodeChecked(el: Element, ctx: { site?: string }): Decoded<Incident> {
  if (!(el instanceof Element)) return fail('/', 'not an XML element');
  // Bound the tree before walking it: the walk below recurses through ltx's namespace lookup.
  const shape = checkShape(el);
  if (shape) return fail(shape.path, shape.message);
  if (el.getName() !== 'incident') return fail(el.name, `expected <incident>, got <${clip(el.name)}>`);
  checkNamespace(el);

  const solutions = childrenNamed(el, 'solution', LEGACY_NS);
  const incident = emptyIncident(decodeId(el), solutions.length > 0 ? 'resolved' : 'new');
  if (ctx.site !== undefined) incident.site = ctx.site;

  const description = single([el], 'description', 'incident');
  // The XEP examples always carry a <description>, but nothing in it is required: accept its absence.
  if (description) decodeDescription(description, incident, 'incident/description');
  incident.solutions = solutions.map((s) => decodeSolution(s, 'incident/solution'));
  return ok(incident);
}

function checkNamespace(el: Element): void {
  const ns = nsOf(el);
  if (ns === LEGACY_NS) return;
  const hint = ns === IODEF_WRAPPER_NS ? ' (that is the IODEF family)' : '';
  throw new DecodeFailure('incident', `wrong namespace '${clip(ns ?? '')}'${hint}, expected '${LEGACY_NS}'`);
}

function decodeId(el: Element): string {
  const raw: unknown = el.attrs.id;
  if (typeof raw !== 'string' || raw.trim() === '') throw new DecodeFailure('incident/@id', "missing 'id' attribute");
  const id = raw.trim(); // case kept: ids are compared case-insensitively elsewhere
  check('incident/@id', checkUuid(id));
  return id;
}

function decodeDescription(desc: Element, incident: Incident, path: string): void {
  decodeDiscuss(gather([desc], 'discuss'), incident, `${path}/discuss`);
  decodeInfo(gather([desc], 'info'), incident, `${path}/info`);
  incident.targets = decodeLocs(gather([desc], 'locs'), `${path}/locs`);
  incident.related = gather(gather([desc], 'rels'), 'rel').flatMap((rel) => {
    const id = uuidText(rel, `${path}/rels/rel`);
    return id === undefined ? [] : [{ id }];
  });
  const severity = single([desc], 'severity', path);
  const level = severity && severityOf(severity, `${path}/severity`);
  if (level) incident.severity = level;
  incident.sources = decodeSources(gather([desc], 'source'), `${path}/source`);
  incident.texts = decodeTexts([desc]);
  decodeTime(gather([desc], 'time'), incident, `${path}/time`);
}

function decodeDiscuss(discuss: Element[], incident: Incident, path: string): void {
  incident.admins = nonEmpty(gather(discuss, 'admin'), `${path}/admin`).map((a) => jidText(a, `${path}/admin`));
  const muc = single(discuss, 'muc', path);
  if (muc && textOf(muc) !== '') incident.room = jidText(muc, `${path}/muc`);
  else if (muc) odd(`${path}/muc`, 'empty: no room taken');
}

function decodeInfo(info: Element[], incident: Incident, path: string): void {
  const category = single(info, 'category', path);
  // Free-form words: an empty one says nothing, so it is skipped rather than rejected.
  if (category && textOf(category) !== '') incident.category = textOf(category);
  incident.types = gather(info, 'type')
    .map(textOf)
    .filter((t) => t !== '');
}

/** Every `<loc>` goes into ONE target node, as the IODEF form of the same example puts them in one Node. */
function decodeLocs(locs: Element[], path: string): NetworkNode[] {
  const addresses = nonEmpty(gather(locs, 'loc'), `${path}/loc`).map((loc): Address => ({ kind: 'jid', value: jidText(loc, `${path}/loc`) }));
  return addresses.length === 0 ? [] : [node(addresses)];
}

/**
 * Sources: ONE node per address (as IODEF has one Node per source), JIDs first then IPs, the order the encoder
 * writes, so that decode → encode → decode is stable. `<jid>`/`<ip>` directly under `<source>` (without the
 * `<jids>`/`<ips>` container; the XEP prose talks of "the <ip/> element") are accepted too.
 */
function decodeSources(sources: Element[], path: string): NetworkNode[] {
  const jidEls = [...gather(gather(sources, 'jids'), 'jid'), ...gather(sources, 'jid')];
  const ipEls = [...gather(gather(sources, 'ips'), 'ip'), ...gather(sources, 'ip')];
  const jids = nonEmpty(jidEls, `${path}/jids/jid`).map((j): Address => ({ kind: 'jid', value: jidText(j, `${path}/jids/jid`) }));
  const ips = nonEmpty(ipEls, `${path}/ips/ip`).map((i): Address => ipText(i, `${path}/ips/ip`));
  return [...jids, ...ips].map((a) => node([a]));
}

function decodeTexts(parents: Element[]): LocalizedText[] {
  return gather(parents, 'text').flatMap((t): LocalizedText[] => {
    const text = textOf(t);
    if (text === '') return []; // an empty text says nothing
    const lang: unknown = t.attrs['xml:lang'];
    return typeof lang === 'string' && lang !== '' ? [{ text, lang }] : [{ text }];
  });
}

function decodeTime(time: Element[], incident: Incident, path: string): void {
  const begin = single(time, 'begin', path);
  const end = single(time, 'end', path);
  const report = single(time, 'report', path);
  const beginText = begin && dateText(begin, `${path}/begin`);
  if (beginText) incident.times.begin = beginText;
  // An empty <end/> is how legacy says "still happening" (XEP-0268 v0.2 §2).
  const endText = end && (textOf(end) === '' ? null : dateText(end, `${path}/end`));
  if (endText !== undefined) incident.times.end = endText;
  const reportText = report && dateText(report, `${path}/report`);
  if (reportText) incident.times.report = reportText;
}

/** A `<solution>` may hold any description child; the model keeps its sources and texts, the rest is ignored. */
function decodeSolution(solution: Element, path: string): Solution {
  return {
    texts: decodeTexts([solution]),
    sources: decodeSources(gather([solution], 'source'), `${path}/source`),
  };
}

/** At most this many intake notes per document (as in the IODEF decoder). */
const MAX_NOTES = 20;
/** The notes of the document being decoded (decoding is synchronous: one document at a time). */
let notes: string[] = [];

/** Accepted, but odd: noted for `!show` rather than refused. */
function odd(path: string, message: string): void {
  if (notes.length < MAX_NOTES) notes.push(`${path}: ${message}`);
  else if (notes.length === MAX_NOTES) notes.push('… and more oddities');
}

// Leaf values: each throws a DecodeFailure naming the element, caught at the decodeLegacy boundary.

function jidText(el: Element, path: string): string {
  const value = textOf(el);
  check(path, checkJid(value));
  return value;
}

/** A related id that is not a UUID points nowhere we could look: noted and left out. */
function uuidText(el: Element, path: string): string | undefined {
  const value = textOf(el);
  const problem = checkUuid(value);
  if (problem === undefined) return value;
  odd(path, `${problem}: related id left out`);
  return undefined;
}

/** A date that is not XEP-0082 is kept in the note (as text) and not used: it could not be ordered. */
function dateText(el: Element, path: string): string | undefined {
  const value = textOf(el);
  const problem = checkDateTime(value);
  if (problem === undefined) return value;
  odd(path, `${problem}: kept as text here, not used`);
  return undefined;
}

/** An IP that does not parse is kept as text (an 'other' address), like the IODEF decoder does. */
function ipText(el: Element, path: string): Address {
  const text = textOf(el);
  const parsed = parseIp(text);
  if (typeof parsed !== 'string') return parsed;
  odd(path, `${parsed}: kept as text`);
  return { kind: 'other', category: text.includes(':') ? 'ipv6-addr' : 'ipv4-addr', value: text };
}

function severityOf(el: Element, path: string): NonNullable<Incident['severity']> | undefined {
  const parsed = checkSeverity(textOf(el));
  if (typeof parsed !== 'string') return parsed;
  odd(path, `${parsed}: no severity taken`);
  return undefined;
}

/** Empty elements (`<admin/>`, `<ip/>`) say nothing: skipped, and noted. */
function nonEmpty(els: Element[], path: string): Element[] {
  const kept = els.filter((el) => textOf(el) !== '');
  if (kept.length < els.length) odd(path, `${els.length - kept.length} empty element(s) skipped`);
  return kept;
}

function check(path: string, problem: string | undefined): void {
  if (problem !== undefined) throw new DecodeFailure(path, problem);
}

/**
 * The `name` children (in the legacy namespace) of all `parents`. Containers may repeat (two `<locs>`, two
 * `<source>`): their children are merged, since that is unambiguous.
 */
function gather(parents: readonly Element[], name: string): Element[] {
  return parents.flatMap((p) => childrenNamed(p, name, LEGACY_NS));
}

/** A single-valued element: the first of several is taken, and the others are noted (they contradict it). */
function single(parents: readonly Element[], name: string, parentPath: string): Element | undefined {
  const found = gather(parents, name);
  if (found.length > 1) odd(`${parentPath}/${name}`, `${found.length} <${name}> elements: the first is taken`);
  return found[0];
}

function node(addresses: Address[]): NetworkNode {
  return { addresses, counters: [], roles: [] };
}
