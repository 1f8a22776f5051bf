/**
 * What happens to an incident when something about it arrives from a peer. Decisions on the store (each change
 * is `save()`d); the caller commits the store and then acknowledges, announces and sends.
 */
import type { Incident, IodefKind } from '../protocol/incident.js';
import { bareJid } from '../protocol/validate.js';
import {
  keepFirstAndLatest,
  MAX_EXCHANGE_BYTES,
  MAX_EXCHANGES,
  MAX_KNOWN_BY,
  MAX_TIMELINE,
  MAX_VERSION_BYTES,
  MAX_VERSIONS,
  timelineText,
} from './record-bounds.js';
import { incidentKey, type IncidentStore, type StoredIncident, type WireFormat } from './store.js';

export interface Arrival {
  incident: Incident;
  /** The stanza's real `from` (full JID as the server stamped it). */
  from: string;
  format: WireFormat;
  kind: IodefKind | 'legacy';
  trusted: boolean;
  at?: string;
  /** What was odd but accepted in the document (liberal intake), if anything. */
  notes?: string[];
}

export type ReportChange =
  /** First time this incident is seen. */
  | 'new'
  /** A changed version from its reporter or a trusted peer. */
  | 'updated'
  /** Byte-for-byte the same incident again: nothing to store or announce. */
  | 'unchanged'
  /** A changed version from an untrusted sender that did not report it: noted in the timeline, not kept or applied. */
  | 'untrusted-update';

export interface ReportOutcome {
  change: ReportChange;
  stored: StoredIncident;
}

/** A report (IODEF `<report/>` or a legacy `<incident/>`) arrived. */
export function receiveReport(store: IncidentStore, incoming: Arrival): ReportOutcome {
  const arrival = detached(incoming);
  const at = arrival.at ?? new Date().toISOString();
  const known = store.get(incidentKey(arrival.incident));
  if (!known) return { change: 'new', stored: addIncident(store, arrival, at) };

  const merged = mergeRevision(known.incident, arrival.incident);
  if (sameIncident(known.incident, merged)) return { change: 'unchanged', stored: known };

  if (!mayChange(known, arrival)) {
    // Kept only as a line: an untrusted stranger's versions would let anyone grow a trusted incident's record.
    known.timeline.push({ at, who: arrival.from, action: 'untrusted update not applied' });
    keepBounded(known);
    store.save(known);
    return { change: 'untrusted-update', stored: known };
  }
  rememberPeer(known, arrival.from);
  keepVersion(known, arrival, at);
  // The notes describe the latest version received.
  if (arrival.notes?.length) known.intakeNotes = arrival.notes.map(own);
  else delete known.intakeNotes;
  known.incident = merged;
  known.updatedAt = at;
  if (arrival.incident.status === 'resolved') known.state = 'resolved';
  known.timeline.push({ at, who: arrival.from, action: arrival.incident.status === 'resolved' ? 'resolved by peer' : 'updated by peer' });
  keepBounded(known);
  store.save(known); // last: save() also updates the in-memory index (state, trust) from the incident
  return { change: 'updated', stored: known };
}

/** A request for assistance arrived: kept with its expected action, on a new incident if it is unknown. */
export function receiveRequest(store: IncidentStore, incoming: Arrival): ReportOutcome {
  return attach(store, incoming, (stored, at, arrival) => {
    const expectation = arrival.incident.expectation;
    stored.requests.push({ at, from: arrival.from, ...(expectation ? { action: expectation.action } : {}), texts: expectation?.texts ?? [] });
    stored.timeline.push({ at, who: arrival.from, action: 'requested assistance', ...(expectation ? { text: timelineText(expectation.action) } : {}) });
  });
}

/** A response to a request for assistance arrived: attached to the incident it answers. */
export function receiveResponse(store: IncidentStore, incoming: Arrival): ReportOutcome {
  return attach(store, incoming, (stored, at, arrival) => {
    stored.responses.push({ at, from: arrival.from, history: arrival.incident.history, texts: arrival.incident.texts });
    const summary = timelineText(arrival.incident.history.map((h) => h.texts[0]?.text ?? h.action).join('; '));
    stored.timeline.push({ at, who: arrival.from, action: 'responded', ...(summary ? { text: summary } : {}) });
  });
}

/**
 * Requests and responses hang off the incident they are about, which is created when it is not known yet. `record`
 * gets the detached arrival: what it keeps must not be the decoded values (see detached()).
 */
function attach(store: IncidentStore, incoming: Arrival, record: (stored: StoredIncident, at: string, arrival: Arrival) => void): ReportOutcome {
  const arrival = detached(incoming);
  const at = arrival.at ?? new Date().toISOString();
  const known = store.get(incidentKey(arrival.incident));
  const stored = known ?? addIncident(store, arrival, at);
  if (known && mayChange(known, arrival)) {
    rememberPeer(known, arrival.from);
    keepVersion(known, arrival, at);
  }
  record(stored, at, arrival);
  keepBounded(stored);
  stored.updatedAt = at;
  store.save(stored);
  return { change: known ? 'updated' : 'new', stored };
}

/** A peer inquired about an incident: noted in its timeline (the caller owes the answer and commits). */
export function noteInquiry(store: IncidentStore, stored: StoredIncident, from: string, at: string): void {
  stored.timeline.push({ at, who: from, action: 'inquired' });
  keepBounded(stored);
  store.save(stored);
}

/** An inquiry names an incident by (site, id): the stored incident, if we know it. */
export function findForInquiry(store: IncidentStore, query: Pick<Incident, 'id' | 'site'>): StoredIncident | undefined {
  return store.get(incidentKey(query));
}

/**
 * The arrival with strings of its own. Values decoded from a stanza are V8 slices of the whole stanza (or stream
 * chunk) text, and one such slice kept in the store keeps the entire original text alive — a hostile peer
 * sending giant texts would grow memory far beyond what is stored. Each string is copied in place (no JSON round
 * trip, no new objects): V8 copies substrings shorter than 13 characters anyway, so only longer ones are copied.
 */
function detached(arrival: Arrival): Arrival {
  ownStrings(arrival.incident);
  return { ...arrival, from: own(arrival.from) };
}

const SLICE_MIN = 13;

/** A copy of a string sharing no memory with it: the concatenation is flattened into a new string. */
function own(text: string): string {
  return text.length < SLICE_MIN ? text : (' ' + text).slice(1);
}

function ownStrings(value: object): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'string') value[i] = own(item);
      else if (item !== null && typeof item === 'object') ownStrings(item);
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (typeof item === 'string') record[key] = own(item);
    else if (item !== null && typeof item === 'object') ownStrings(item);
  }
}

function addIncident(store: IncidentStore, arrival: Arrival, at: string): StoredIncident {
  return store.add({
    incident: arrival.incident,
    state: arrival.incident.status === 'resolved' ? 'resolved' : 'open',
    trusted: arrival.trusted,
    from: arrival.from,
    format: arrival.format,
    receivedAt: at,
    updatedAt: at,
    // The first version is the incident itself, not a copy: the store writes it once (see editableIncident).
    versions: [versionOf(arrival, at)],
    timeline: [{ at, who: arrival.from, action: arrival.kind === 'request' ? 'received (request)' : 'reported' }],
    knownBy: [arrival.from],
    requests: [],
    responses: [],
    ...(arrival.notes?.length ? { intakeNotes: arrival.notes.map(own) } : {}),
  });
}

/**
 * Whether an arrival may change a known incident (and be kept as one of its versions): from its reporter or a
 * trusted peer. Anyone else's changes are only noted, so an untrusted stranger cannot amplify writes by sending
 * big "updates" about someone else's incident.
 */
function mayChange(known: StoredIncident, arrival: Arrival): boolean {
  return arrival.trusted || bareJid(arrival.from) === bareJid(known.from);
}

function keepVersion(stored: StoredIncident, arrival: Arrival, at: string): void {
  stored.versions.push(versionOf(arrival, at));
  keepFirstAndLatest(stored.versions, MAX_VERSIONS, MAX_VERSION_BYTES);
}

/** Every list peers add to stays bounded (record-bounds.ts): each save writes the whole record. */
function keepBounded(stored: StoredIncident): void {
  keepFirstAndLatest(stored.timeline, MAX_TIMELINE);
  keepFirstAndLatest(stored.requests, MAX_EXCHANGES, MAX_EXCHANGE_BYTES);
  keepFirstAndLatest(stored.responses, MAX_EXCHANGES, MAX_EXCHANGE_BYTES);
  keepFirstAndLatest(stored.knownBy, MAX_KNOWN_BY);
}

function versionOf(arrival: Arrival, at: string) {
  return { at, from: arrival.from, format: arrival.format, kind: arrival.kind, incident: arrival.incident };
}

function rememberPeer(stored: StoredIncident, jid: string): void {
  if (!stored.knownBy.includes(jid)) stored.knownBy.push(jid);
}

/**
 * A revision replaces what it says and keeps what it leaves out: a legacy solution is often sent with an elided
 * description (XEP-0268's own example writes `...`), which must not wipe out the incident's details. The issuing
 * site stays the original one: for a legacy report the "site" is only the relaying sender's domain.
 */
export function mergeRevision(known: Incident, update: Incident): Incident {
  const merged: Incident = { ...known, status: update.status, id: known.id, site: known.site ?? update.site };
  const lists = ['admins', 'types', 'sources', 'targets', 'related', 'texts', 'solutions', 'history'] as const;
  for (const key of lists) {
    if (update[key].length > 0) (merged as unknown as Record<string, unknown>)[key] = update[key];
  }
  for (const key of ['purpose', 'room', 'category', 'severity', 'impact', 'expectation'] as const) {
    if (update[key] !== undefined) (merged as unknown as Record<string, unknown>)[key] = update[key];
  }
  merged.times = { ...known.times, ...definedOnly(update.times) };
  return merged;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Two versions are the same when their models are, compared as a relay would leave them: `status` new vs updated
 * alone is not a change, nor is the id's letter case or the site (for legacy, only the relaying sender's domain).
 */
function sameIncident(a: Incident, b: Incident): boolean {
  const strip = (i: Incident) =>
    JSON.stringify({ ...i, id: incidentKey(i), site: undefined, status: i.status === 'resolved' ? 'resolved' : 'open' });
  return strip(a) === strip(b);
}

export { MAX_EXCHANGES, MAX_TIMELINE, MAX_VERSIONS } from './record-bounds.js';
