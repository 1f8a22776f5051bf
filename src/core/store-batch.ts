/**
 * One group commit as database operations: each changed record with the index entries that follow from it
 * (added and removed against what the index held for it), the counters those change, the outbox changes and
 * the metadata. Built from the committed state: batches are written one after the other, so when one is built
 * the database holds everything before it.
 */
import { encodeRecord, encodeValue } from './store-codec.js';
import { EMPTY, keyIndexKey, type Derived, type Op, type StoreDb } from './store-db.js';
import { indexEntriesOf, type Facet, type FacetName } from './store-index.js';
import type { OutboxEntry, StoredIncident } from './stored-incident.js';

/** Facets whose values are also ranked by count (stats: top reporters). */
const RANKED: ReadonlySet<FacetName> = new Set(['domain']);

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

export function batchOps(db: StoreDb, content: BatchContent): Op[] {
  const ops: Op[] = [];
  const counts = new CountDeltas();
  for (const stored of content.records) recordOps(db, stored, ops, counts);
  counts.ops(db, ops);
  for (const { seq, entry } of content.outbox) ops.push({ table: 'outbox', key: seq, ...(entry ? { value: encodeValue(entry) } : {}) });
  for (const [name, value] of content.meta) ops.push({ table: 'meta', key: name, value: encodeValue(value) });
  return ops;
}

function recordOps(db: StoreDb, stored: StoredIncident, ops: Op[], counts: CountDeltas): void {
  const n = stored.number;
  ops.push({ table: 'incidents', key: n, value: encodeRecord(stored) });
  const now = indexEntriesOf(stored);
  const before: Derived | undefined = db.derived(n);
  if (!before) ops.push({ table: 'keys', key: keyIndexKey(stored.key), value: n });
  if (before?.id !== now.id) {
    if (before) ops.push({ table: 'ids', key: [before.id, n] });
    ops.push({ table: 'ids', key: [now.id, n], value: EMPTY });
  }
  const oldFacets = new Map((before?.facets ?? []).map((f) => [facetId(f), f]));
  const newFacets = new Map(now.facets.map((f) => [facetId(f), f]));
  for (const [id, [facet, value]] of oldFacets) {
    if (newFacets.has(id)) continue;
    ops.push({ table: 'facets', key: [facet, value, n] });
    counts.add(facet, value, -1);
  }
  for (const [id, [facet, value]] of newFacets) {
    if (oldFacets.has(id)) continue;
    ops.push({ table: 'facets', key: [facet, value, n], value: EMPTY });
    counts.add(facet, value, 1);
  }
  const oldTerms = new Set(before?.terms ?? []);
  const newTerms = new Set(now.terms);
  for (const term of oldTerms) if (!newTerms.has(term)) ops.push({ table: 'terms', key: [term, n] });
  for (const term of newTerms) if (!oldTerms.has(term)) ops.push({ table: 'terms', key: [term, n], value: EMPTY });
  ops.push({ table: 'derived', key: n, value: encodeValue(now) });
}

const facetId = ([facet, value]: Facet) => `${facet}\u0000${value}`;

/** Counter changes of one batch, summed per [facet, value] before anything is read or written. */
class CountDeltas {
  private readonly deltas = new Map<string, { facet: FacetName; value: string; delta: number }>();

  add(facet: FacetName, value: string, delta: number): void {
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
