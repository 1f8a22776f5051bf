/**
 * Store writes as database operations, in two kinds of transaction:
 *
 * - a **commit** (what an acknowledgement waits for): the changed records, the keys of new incidents, the outbox
 *   changes, the metadata, and a `reindex` mark per changed record. A few pages per report, most of them shared
 *   by the reports of the batch (numbers ascend, so new records and marks are appended side by side).
 * - an **index pass** (IncidentStore.indexPass, a little later, over many records at once): for each marked record,
 *   the index entries that follow from it — added, and removed against what the index held for it (kept in the
 *   mark by the commit that first changed an indexed record) — the counters they change, and the mark removed.
 *   Index entries are spread over the whole B-tree (one page per term); written per report they cost ten times
 *   the record itself, written for a few hundred reports at once they share their pages.
 *
 * Both are built from the committed state: writes are serialised (one write lane), so when one is built the
 * database holds everything before it.
 */
import { encodeRecord, encodeValue } from './store-codec.js';
import { StoreDamagedError } from './store-codec.js';
import { EMPTY, keyIndexKey, type Derived, type Op, type StoreDb } from './store-db.js';
import { indexEntriesOf, type Facet, type FacetName } from './store-index.js';
import type { OutboxEntry, StoredIncident } from './stored-incident.js';

/** Facets whose values are also ranked by count (stats: top reporters). */
const RANKED: ReadonlySet<FacetName> = new Set(['domain']);
/** Facets not counted: one value per reported JID, and nothing reads their counts. */
const UNCOUNTED: ReadonlySet<FacetName> = new Set(['open-source']);

export interface OutboxChange {
  seq: number;
  /** The entry to write, or undefined when it is done (delivered, refused or given up). */
  entry?: OutboxEntry;
}

export interface BatchContent {
  records: readonly StoredIncident[];
  outbox: readonly OutboxChange[];
  meta: ReadonlyArray<[name: string, value: unknown]>;
}

/** A commit: records (marked for the index pass), keys of new incidents, outbox, metadata. */
export function commitOps(db: StoreDb, content: BatchContent): { ops: Op[]; added: number } {
  const ops: Op[] = [];
  let added = 0;
  for (const stored of content.records) {
    const n = stored.number;
    if (!db.hasRecord(n)) {
      ops.push({ table: 'keys', key: keyIndexKey(stored.key), value: n });
      ops.push({ table: 'reindex', key: n, value: EMPTY });
      added += 1;
    } else if (!db.reindexMark(n)) {
      // The first change since the record was indexed: the mark keeps what the index holds for it.
      ops.push({ table: 'reindex', key: n, value: heldFor(db, n) });
    }
    ops.push({ table: 'incidents', key: n, value: encodeRecord(stored) });
  }
  for (const { seq, entry } of content.outbox) ops.push({ table: 'outbox', key: seq, ...(entry ? { value: encodeValue(entry) } : {}) });
  for (const [name, value] of content.meta) ops.push({ table: 'meta', key: name, value: encodeValue(value) });
  return { ops, added };
}

/**
 * An index pass, record by record (the caller stops when its time is up): their index entries brought up to date
 * and their marks removed; the counters once at the end. A record that is gone just loses its mark.
 */
export class IndexPass {
  private readonly out: Op[] = [];
  private readonly counts = new CountDeltas();
  size = 0;

  constructor(private readonly db: StoreDb) {}

  /** Operations so far (what the transaction's length depends on). */
  get opCount(): number {
    return this.out.length;
  }

  add(number: number, stored: StoredIncident | undefined): void {
    if (stored) entryOps(stored, this.db.reindexMark(number)?.held, this.out, this.counts);
    this.out.push({ table: 'reindex', key: number });
    this.size += 1;
  }

  ops(): Op[] {
    const ops = [...this.out];
    this.counts.ops(this.db, ops);
    return ops;
  }
}

/** Records with their index entries in one go (building a whole database: migration, repair, reindex). */
export function recordsWithIndexOps(db: StoreDb, records: readonly StoredIncident[]): Op[] {
  const ops: Op[] = [];
  const counts = new CountDeltas();
  for (const stored of records) {
    if (!db.hasRecord(stored.number)) ops.push({ table: 'keys', key: keyIndexKey(stored.key), value: stored.number });
    ops.push({ table: 'incidents', key: stored.number, value: encodeRecord(stored) });
    entryOps(stored, undefined, ops, counts);
  }
  counts.ops(db, ops);
  return ops;
}

/** What the index holds for an indexed record: its entries as stored (the record is about to change). */
function heldFor(db: StoreDb, n: number): Buffer {
  try {
    const before = db.record(n);
    return before ? encodeValue(indexEntriesOf(before)) : EMPTY;
  } catch (err) {
    if (!(err instanceof StoreDamagedError)) throw err;
    return EMPTY; // its old entries cannot be known: they stay (a search may name #N for a word it lost)
  }
}

function entryOps(stored: StoredIncident, before: Derived | undefined, ops: Op[], counts: CountDeltas): void {
  const n = stored.number;
  const now = indexEntriesOf(stored);
  if (before?.id !== now.id) {
    if (before) ops.push({ table: 'ids', key: [before.id, n] });
    ops.push({ table: 'ids', key: [now.id, n], value: EMPTY });
  }
  const oldFacets = new Map((before?.facets ?? []).map((f) => [facetId(f), f]));
  const newFacets = new Map(now.facets.map((f) => [facetId(f), f]));
  for (const [id, [facet, value]] of oldFacets) {
    if (newFacets.has(id)) continue;
    ops.push({ table: 'facets', key: [facet, value], value: n, remove: true });
    counts.add(facet, value, -1);
  }
  for (const [id, [facet, value]] of newFacets) {
    if (oldFacets.has(id)) continue;
    ops.push({ table: 'facets', key: [facet, value], value: n });
    counts.add(facet, value, 1);
  }
  const oldTerms = new Set(before?.terms ?? []);
  const newTerms = new Set(now.terms);
  for (const term of oldTerms) if (!newTerms.has(term)) ops.push({ table: 'terms', key: term, value: n, remove: true });
  for (const term of newTerms) if (!oldTerms.has(term)) ops.push({ table: 'terms', key: term, value: n });
}

const facetId = ([facet, value]: Facet) => `${facet}\u0000${value}`;

/** Counter changes of one pass, summed per [facet, value] before anything is read or written. */
class CountDeltas {
  private readonly deltas = new Map<string, { facet: FacetName; value: string; delta: number }>();

  add(facet: FacetName, value: string, delta: number): void {
    if (UNCOUNTED.has(facet)) return;
    const id = `${facet}\u0000${value}`;
    const d = this.deltas.get(id);
    if (d) d.delta += delta;
    else this.deltas.set(id, { facet, value, delta });
  }

  ops(db: StoreDb, ops: Op[]): void {
    for (const { facet, value, delta } of this.deltas.values()) {
      if (delta === 0) continue;
      const old = db.count(facet, value);
      const now = Math.max(0, old + delta);
      ops.push({ table: 'counts', key: [facet, value], ...(now > 0 ? { value: now } : {}) });
      if (RANKED.has(facet)) {
        if (old > 0) ops.push({ table: 'ranks', key: [facet, old, value] });
        if (now > 0) ops.push({ table: 'ranks', key: [facet, now, value], value: EMPTY });
      }
    }
  }
}
