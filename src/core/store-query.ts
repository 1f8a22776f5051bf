/**
 * The store's read queries over its indexes: each costs what it returns (plus a few B-tree descents per hit),
 * never a walk over every incident. Results are newest (highest #N) first.
 *
 * Records changed since the last index pass (a fraction of a second's worth: store-batch.ts) are `fresh`: their
 * index entries may be stale, so they are left out of the index streams and matched on the records themselves.
 */
import type { Severity } from '../protocol/incident.js';
import { bareJid } from '../protocol/validate.js';
import { StoreDamagedError } from './store-codec.js';
import type { StoreDb } from './store-db.js';
import { facetsOf, queryTerms, STATES, termsOf, type FacetName } from './store-index.js';
import type { StoredIncident, TriageState } from './stored-incident.js';

/** A `list` query: every given criterion must hold (values within one criterion are alternatives). */
export interface ListQuery {
  states?: readonly TriageState[];
  severities?: ReadonlyArray<Severity | '?'>;
  /** Reporting peers, as bare JIDs. */
  peers?: readonly string[];
  /** Reporting peers' domains. */
  domains?: readonly string[];
  trusted?: boolean;
  /** Owners, as bare JIDs; NO_OWNER ('-') for incidents nobody owns. */
  owners?: readonly string[];
  /** Paging: only incidents numbered below this. */
  before?: number;
  /** At most this many (default 50). */
  limit?: number;
}

export interface Page {
  incidents: StoredIncident[];
  /** Numbers among the matches whose records failed their checksum (StoreDamagedError): shown as damaged. */
  damaged: number[];
  /** Whether more match beyond this page (ask again with `before` = the last number shown). */
  more: boolean;
  /** How many match in all, when the counters tell it exactly (at most one criterion); else undefined. */
  total?: number;
}

/** The records whose index entries may be stale, matched directly (see the top comment). */
export interface FreshView {
  numbers: ReadonlySet<number>;
  /** Those records, newest first, read one at a time as a query goes (a query stops at its page). */
  newestFirst(): Iterable<StoredIncident>;
}

interface Criterion {
  facet: FacetName;
  values: string[];
}

function criteriaOf(q: ListQuery): Criterion[] {
  const out: Criterion[] = [];
  if (q.states) out.push({ facet: 'state', values: [...new Set(q.states)] });
  if (q.severities) out.push({ facet: 'severity', values: q.severities.map(String) });
  if (q.peers) out.push({ facet: 'peer', values: q.peers.map(bareJid) });
  if (q.domains) out.push({ facet: 'domain', values: q.domains.map((d) => d.toLowerCase()) });
  if (q.trusted !== undefined) out.push({ facet: 'trust', values: [q.trusted ? 'trusted' : 'untrusted'] });
  if (q.owners) out.push({ facet: 'owner', values: q.owners.map((o) => (o === '-' ? o : bareJid(o))) });
  return out;
}

export function listIncidents(db: StoreDb, query: ListQuery, load: (n: number) => StoredIncident | undefined, fresh: FreshView): Page {
  const limit = query.limit ?? 50;
  const before = query.before ?? Infinity;
  const criteria = criteriaOf(query);
  const sizeOf = (c: Criterion) => c.values.reduce((sum, v) => sum + db.count(c.facet, v), 0);
  let indexed: Iterable<number>;
  let others: Criterion[] = [];
  let total: number | undefined;
  if (criteria.length === 0) {
    indexed = mergeNewestFirst(STATES.map((s) => db.newestFirst('facets', ['state', s], before)));
    total = STATES.reduce((sum, s) => sum + db.count('state', s), 0);
  } else {
    // Walk the narrowest criterion; check the others on each candidate.
    const sized = criteria.map((c) => ({ c, size: sizeOf(c) })).sort((a, b) => a.size - b.size);
    const driver = sized[0]!.c;
    others = sized.slice(1).map((s) => s.c);
    indexed = mergeNewestFirst(driver.values.map((v) => db.newestFirst('facets', [driver.facet, v], before)));
    if (criteria.length === 1) total = sized[0]!.size;
  }
  const matching = (function* () {
    for (const n of indexed) {
      if (fresh.numbers.has(n)) continue;
      if (others.every((c) => c.values.some((v) => db.hasFacet(c.facet, v, n)))) yield n;
    }
  })();
  const recent = (function* () {
    for (const s of fresh.newestFirst()) {
      if (s.number < before && criteria.every((c) => facetsOf(s).some(([f, v]) => f === c.facet && c.values.includes(v)))) yield s.number;
    }
  })();
  const page = collect(mergeNewestFirst([matching, recent]), limit, load);
  return { ...page, ...(total !== undefined ? { total } : {}) };
}

/**
 * Incidents matching every term of the query (see queryTerms), newest first: a zig-zag join of the terms'
 * lists, each step one B-tree descent, so a rare term makes a common one cheap.
 */
export function searchIncidents(
  db: StoreDb,
  query: string,
  opts: { limit?: number; before?: number },
  load: (n: number) => StoredIncident | undefined,
  fresh: FreshView,
): Page & { terms: string[] } {
  const terms = queryTerms(query);
  if (terms.length === 0) return { incidents: [], damaged: [], more: false, terms };
  const before = opts.before ?? Infinity;
  const indexed = (function* () {
    for (const n of joinNewestFirst(db, terms, before)) if (!fresh.numbers.has(n)) yield n;
  })();
  const recent = (function* () {
    for (const s of fresh.newestFirst()) {
      if (s.number >= before) continue;
      const has = new Set(termsOf(s));
      if (terms.every((t) => has.has(t))) yield s.number;
    }
  })();
  return { ...collect(mergeNewestFirst([indexed, recent]), opts.limit ?? 20, load), terms };
}

/** The first `limit` matches, loaded; a damaged record is listed by number instead of failing the page. */
function collect(numbers: Iterable<number>, limit: number, load: (n: number) => StoredIncident | undefined): Page {
  const incidents: StoredIncident[] = [];
  const damaged: number[] = [];
  for (const n of numbers) {
    if (incidents.length + damaged.length === limit) return { incidents, damaged, more: true };
    try {
      const stored = load(n);
      if (stored) incidents.push(stored);
    } catch (err) {
      if (!(err instanceof StoreDamagedError)) throw err;
      damaged.push(n);
    }
  }
  return { incidents, damaged, more: false };
}

function* joinNewestFirst(db: StoreDb, terms: readonly string[], before: number): Generator<number> {
  let cursor = before === Infinity ? Infinity : before - 1;
  for (;;) {
    let agreed = 0;
    let i = 0;
    while (agreed < terms.length) {
      const n = db.seek('terms', terms[i]!, cursor);
      if (n === undefined) return;
      if (n === cursor) agreed += 1;
      else {
        cursor = n;
        agreed = 1;
      }
      i = (i + 1) % terms.length;
    }
    yield cursor;
    cursor -= 1;
    if (cursor < 1) return;
  }
}

/** Several newest-first number streams as one (each number once). */
function* mergeNewestFirst(streams: Array<Iterator<number>>): Generator<number> {
  const heads = streams.map((s) => ({ s, v: s.next() }));
  for (;;) {
    let best: (typeof heads)[number] | undefined;
    for (const h of heads) if (!h.v.done && (!best || h.v.value > (best.v.value as number))) best = h;
    if (!best) return;
    const value = best.v.value as number;
    yield value;
    for (const h of heads) while (!h.v.done && h.v.value === value) h.v = h.s.next();
  }
}

/** The counters `stats` shows, read in O(1) each. */
export interface StoreCounts {
  total: number;
  byState: Record<TriageState, number>;
  trusted: number;
  untrusted: number;
  /** Reporting domains with the most incidents, most first. */
  topDomains: Array<[domain: string, count: number]>;
}

export function storeCounts(db: StoreDb, top = 5): StoreCounts {
  const byState = Object.fromEntries(STATES.map((s) => [s, db.count('state', s)])) as Record<TriageState, number>;
  return {
    total: STATES.reduce((sum, s) => sum + byState[s], 0),
    byState,
    trusted: db.count('trust', 'trusted'),
    untrusted: db.count('trust', 'untrusted'),
    topDomains: db.top('domain', top),
  };
}
