/**
 * Cross-format helpers: how an incident of the format-neutral model looks to a legacy (`urn:xmpp:incident:0`)
 * peer. Pure functions, no I/O. The legacy codec builds its stanzas from `toLegacy`, so what this module says a
 * legacy peer receives is exactly what `decodeLegacy(encodeLegacy(x))` yields.
 */
import { v5 as uuidv5 } from 'uuid';
import type { Address, Incident, LocalizedText, NetworkNode, RelatedIncident, Solution } from './incident.js';
import { checkUuid } from './validate.js';

/**
 * Namespace of the UUIDv5 ids derived for incidents whose id is not a UUID (IODEF ids are any string unique
 * within their site; legacy ids must be UUIDs). Fixed forever: changing it would change every derived id and
 * break the correlation of updates with the incidents a legacy peer already knows.
 */
export const LEGACY_ID_NAMESPACE = 'c928ddc8-3186-4439-a52f-c5acd8c703eb';

type JidAddress = Extract<Address, { kind: 'jid' }>;
type IpAddress = Extract<Address, { kind: 'ip' }>;

/**
 * The legacy id for an incident: its id when it is a UUID (case kept as given), else a UUIDv5 of (site, id).
 * The site is lower-cased (domains compare case-insensitively); the id is kept exactly (IODEF ids are opaque).
 */
export function legacyIdFor(incident: Pick<Incident, 'id' | 'site'>): string {
  if (checkUuid(incident.id) === undefined) return incident.id;
  // A newline cannot occur in a domain, so "site\nid" never collides for two different pairs.
  return uuidv5(`${(incident.site ?? '').toLowerCase()}\n${incident.id}`, LEGACY_ID_NAMESPACE);
}

/**
 * The incident as a legacy peer would receive it from us: the id via legacyIdFor; the fields legacy cannot carry
 * dropped (purpose, impact, expectation, history, detect time, counters, node roles, non-XMPP/IP addresses, the
 * related incidents' sites); the status as legacy decoding derives it (see decodeLegacy); lists made tidy (no
 * duplicate admins, addresses or related ids). `site` is kept: legacy does not carry it on the wire, but the
 * receiver takes it from the sender's domain, which is the issuing site when the reporter sends it.
 */
export function toLegacy(incident: Incident): Incident {
  const out: Incident = {
    id: legacyIdFor(incident),
    // Legacy has no status on the wire: a solution means resolved, otherwise the receiver decides new/updated.
    status: incident.solutions.length > 0 ? 'resolved' : 'new',
    admins: unique(incident.admins),
    types: incident.types.filter((t) => t.length > 0),
    sources: legacySources(incident.sources),
    targets: legacyTargets(incident.targets),
    related: legacyRelated(incident.related),
    texts: legacyTexts(incident.texts),
    times: legacyTimes(incident.times),
    solutions: incident.solutions.map(legacySolution),
    history: [],
  };
  if (incident.site !== undefined) out.site = incident.site;
  if (incident.room !== undefined) out.room = incident.room;
  if (incident.category !== undefined && incident.category.length > 0) out.category = incident.category;
  if (incident.severity !== undefined) out.severity = incident.severity;
  return out;
}

/**
 * Legacy `<source>` lists JIDs and IPs flatly, so each address becomes its own node (as IODEF's one Node per
 * source), JIDs first then IPs, which is the order the legacy encoder writes them in.
 */
export function legacySources(nodes: readonly NetworkNode[]): NetworkNode[] {
  const addresses = nodes.flatMap((n) => n.addresses);
  const jids = uniqueBy(addresses.filter(isJid), (a) => a.value).map((a): JidAddress => ({ kind: 'jid', value: a.value }));
  const ips = uniqueBy(addresses.filter(isIp), ipKey).map(copyIp);
  return [...jids, ...ips].map((a) => node([a]));
}

/** Legacy `<locs>` are XMPP places: every JID of every target node, in one node (as the IODEF example has it). */
export function legacyTargets(nodes: readonly NetworkNode[]): NetworkNode[] {
  const jids = uniqueBy(nodes.flatMap((n) => n.addresses).filter(isJid), (a) => a.value);
  return jids.length === 0 ? [] : [node(jids.map((a): JidAddress => ({ kind: 'jid', value: a.value })))];
}

/** Legacy `<rel>` must be a UUID with no site: a non-UUID IODEF id maps the same way the incident's own id does. */
function legacyRelated(related: readonly RelatedIncident[]): RelatedIncident[] {
  return uniqueBy(
    related.map((r) => ({ id: legacyIdFor(r) })),
    (r) => r.id.toLowerCase(),
  );
}

/** Trimmed and without empty ones, as the legacy decoder reads texts back. */
function legacyTexts(texts: readonly LocalizedText[]): LocalizedText[] {
  return texts.flatMap((t): LocalizedText[] => {
    const text = t.text.trim();
    if (text === '') return [];
    return t.lang === undefined || t.lang === '' ? [{ text }] : [{ text, lang: t.lang }];
  });
}

function legacyTimes(times: Incident['times']): Incident['times'] {
  const out: Incident['times'] = {};
  if (times.begin !== undefined) out.begin = times.begin;
  if (times.end !== undefined) out.end = times.end;
  if (times.report !== undefined) out.report = times.report;
  return out;
}

function legacySolution(solution: Solution): Solution {
  return { texts: legacyTexts(solution.texts), sources: legacySources(solution.sources) };
}

function node(addresses: Address[]): NetworkNode {
  return { addresses, counters: [], roles: [] };
}

function copyIp(a: IpAddress): IpAddress {
  return a.port === undefined
    ? { kind: 'ip', value: a.value, version: a.version }
    : { kind: 'ip', value: a.value, version: a.version, port: a.port };
}

function ipKey(a: IpAddress): string {
  return `${a.value.toLowerCase()}|${a.port ?? ''}`;
}

function isJid(a: Address): a is JidAddress {
  return a.kind === 'jid';
}

function isIp(a: Address): a is IpAddress {
  return a.kind === 'ip';
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function uniqueBy<T>(values: readonly T[], key: (v: T) => string): T[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = key(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
