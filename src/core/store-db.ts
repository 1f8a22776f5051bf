/**
 * The store's database: one LMDB file (`incidents.mdb`, beside the `incidents.json` manifest) with named tables.
 *
 *   incidents  #N → the record (store-codec: checksummed MessagePack)
 *   keys       incident key → #N                      (identity: get(key), numberOf)
 *   ids        [id, #N]                               (UUID prefix lookups, `Related:` numbers)
 *   facets     [facet, value] → #N, #N, …             (list filters, newest first; see store-index.ts)
 *   terms      term → #N, #N, …                       (search, newest first)
 *   counts     [facet, value] → how many              (stats in O(1), list's choice of the narrowest filter)
 *   ranks      [facet, count, value]                  (top reporting domains without sorting them all)
 *   reindex    #N → what the index held for #N        (records changed since the index pass: store-batch.ts)
 *
 * facets and terms are LMDB dup-sorted tables of fixed 4-byte numbers: a value's list of incidents is packed 4
 * bytes per incident in its own pages, and "newest first below N" is one cursor positioning.
 *   outbox     sequence → owed stanza                 (oldest first)
 *   meta       name → value                           (format, nextNumber, outbox sequence, index version)
 *
 * Reads are synchronous (memory-mapped, microseconds), so lookups stay synchronous for the workflow and commands.
 * Writes go in one LMDB transaction per batch (`write`), committed with LMDB's synchronous commit: data pages and
 * then the meta page are flushed to disk before the promise resolves (overlappingSync off — with it on, lmdb-js
 * resolves at commit and flushes later). So a batch is all or nothing, and on disk once `write` resolves.
 */
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import { createHash } from 'node:crypto';
import type { OutboxEntry, StoredIncident } from './stored-incident.js';
import { decodeRecord, decodeValue, encodeValue, StoreDamagedError } from './store-codec.js';
import type { Facet, FacetName } from './store-index.js';

export type TableName = 'incidents' | 'keys' | 'ids' | 'facets' | 'terms' | 'counts' | 'ranks' | 'reindex' | 'outbox' | 'meta';

/**
 * One change in a batch: a put; a removal when `value` is undefined; in a list table (facets, terms) the put or
 * removal (`remove: true`) of the number `value` in the key's list.
 */
export interface Op {
  table: TableName;
  key: Key;
  value?: Buffer | number;
  remove?: true;
}

/** What the index holds for one incident: kept in its reindex mark while it changes, so the pass removes exactly that. */
export interface Derived {
  facets: Facet[];
  terms: string[];
  id: string;
}

/** Numbers in list tables: 4 bytes, big-endian, so LMDB's byte order is numeric order. */
const u32 = {
  encode(n: number): Buffer {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(n >>> 0);
    return b;
  },
  decode(b: Uint8Array): number {
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  },
  writeKey(n: number, target: Uint8Array, start: number): number {
    target[start] = n >>> 24;
    target[start + 1] = (n >>> 16) & 255;
    target[start + 2] = (n >>> 8) & 255;
    target[start + 3] = n & 255;
    return start + 4;
  },
  readKey(b: Uint8Array, start: number): number {
    return ((b[start]! << 24) | (b[start + 1]! << 16) | (b[start + 2]! << 8) | b[start + 3]!) >>> 0;
  },
};

export const EMPTY = Buffer.alloc(0);

/** LMDB keys are limited to ~2 KB: a longer incident key is indexed by its digest (never shown, only matched). */
export function keyIndexKey(key: string): string {
  return Buffer.byteLength(key) <= 400 ? key : `\u0001sha256:${createHash('sha256').update(key).digest('hex')}`;
}

type TableOptions = { keyEncoding?: 'uint32'; encoding?: 'binary' | 'ordered-binary'; encoder?: unknown; dupSort?: true; dupFixed?: true };
const LIST: TableOptions = { encoder: u32, dupSort: true, dupFixed: true };
const TABLES: Record<TableName, TableOptions> = {
  incidents: { keyEncoding: 'uint32', encoding: 'binary' },
  keys: { encoding: 'ordered-binary' },
  ids: { encoding: 'binary' },
  facets: LIST,
  terms: LIST,
  counts: { encoding: 'ordered-binary' },
  ranks: { encoding: 'binary' },
  reindex: { keyEncoding: 'uint32', encoding: 'binary' },
  outbox: { keyEncoding: 'uint32', encoding: 'binary' },
  meta: { encoding: 'binary' },
};

export class StoreDb {
  private readonly tables: Record<TableName, Database>;

  private constructor(
    readonly env: RootDatabase,
    readonly file: string,
  ) {
    this.tables = Object.fromEntries(
      (Object.keys(TABLES) as TableName[]).map((name) => [name, env.openDB({ name, ...TABLES[name], cache: false })]),
    ) as Record<TableName, Database>;
  }

  static open(file: string, opts: { readOnly?: boolean } = {}): StoreDb {
    const env = open({
      path: file,
      maxDbs: 16,
      // Address space only (the file grows as it is written); LMDB cannot grow past it without a remap.
      mapSize: 2 ** 40,
      // Durable commit before the write promise resolves: see the top comment.
      overlappingSync: false,
      // Batches are explicit (write()); turn batching also leaves an unhandled internal rejection on a failed commit.
      eventTurnBatching: false,
      ...(opts.readOnly ? { readOnly: true } : {}),
    });
    return new StoreDb(env, file);
  }

  // ---- reads -------------------------------------------------------------------------------------------------

  record(number: number): StoredIncident | undefined {
    const bytes = this.tables.incidents.getBinaryFast(number);
    return bytes === undefined ? undefined : decodeRecord(bytes, number);
  }

  hasRecord(number: number): boolean {
    return this.tables.incidents.doesExist(number);
  }

  numberOfKey(key: string): number | undefined {
    return this.tables.keys.get(keyIndexKey(key)) as number | undefined;
  }

  /** Whether #N is marked for the index pass, and what the index held for it then (undefined: nothing yet). */
  reindexMark(number: number): { held: Derived | undefined } | undefined {
    const bytes = this.tables.reindex.getBinaryFast(number);
    if (bytes === undefined) return undefined;
    return { held: bytes.length === 0 ? undefined : decodeValue<Derived>(bytes, `the index mark of incident #${number}`) };
  }

  count(facet: FacetName, value: string): number {
    return (this.tables.counts.get([facet, value]) as number | undefined) ?? 0;
  }

  /** The `n` values of a facet with the highest counts, highest first (ties by name, among the first few read). */
  top(facet: FacetName, n: number): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const key of this.tables.ranks.getKeys({ start: [facet, Infinity], end: [facet], reverse: true, limit: n + 20 })) {
      const [, count, value] = key as [string, number, string];
      out.push([value, count]);
    }
    return out.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
  }

  meta<T>(name: string): T | undefined {
    const bytes = this.tables.meta.getBinaryFast(name);
    return bytes === undefined ? undefined : decodeValue<T>(bytes, `the store's metadata (${name})`);
  }

  outboxEntries(): Array<{ seq: number; entry: OutboxEntry }> {
    const out: Array<{ seq: number; entry: OutboxEntry }> = [];
    for (const { key, value } of this.tables.outbox.getRange({})) {
      out.push({ seq: key as number, entry: decodeValue<OutboxEntry>(value as Buffer, `outbox entry ${String(key)}`) });
    }
    return out;
  }

  /** The highest #N stored. */
  lastNumber(): number | undefined {
    for (const key of this.tables.incidents.getKeys({ reverse: true, limit: 1 })) return key as number;
    return undefined;
  }

  /** How many records there are, counted (the store keeps the figure in its metadata; this is for older files). */
  recordCount(): number {
    return this.tables.incidents.getKeysCount({});
  }

  /** Numbers of records changed since their last index pass (after a crash: what the next passes catch up). */
  reindexMarks(): number[] {
    return [...this.tables.reindex.getKeys({})] as number[];
  }

  /** Every #N stored, ascending (repair, index rebuild, --check-store). */
  *numbers(from = 0): Generator<number> {
    for (const key of this.tables.incidents.getKeys({ start: from })) yield key as number;
  }

  /** Raw bytes of a record, copied (the repair path checks them without decoding twice). */
  recordBytes(number: number): Buffer | undefined {
    return this.tables.incidents.getBinary(number);
  }

  /** The numbers listed under a facet value ([facet, value]) or a term, below `before`, newest first. */
  *newestFirst(table: 'facets' | 'terms', key: Key, before = Infinity): Generator<number> {
    const options = before === Infinity ? { reverse: true } : { reverse: true, start: before - 1 };
    if (before <= 1) return;
    for (const n of this.tables[table].getValues(key, options)) yield n as number;
  }

  /** The largest number ≤ `atMost` listed under the key, if any (one cursor positioning: the join in store-query.ts). */
  seek(table: 'facets' | 'terms', key: Key, atMost: number): number | undefined {
    if (atMost < 1) return undefined;
    const start = atMost === Infinity ? 0xffffffff : Math.min(atMost, 0xffffffff);
    for (const n of this.tables[table].getValues(key, { reverse: true, start, limit: 1 })) return n as number;
    return undefined;
  }

  hasFacet(facet: FacetName, value: string, number: number): boolean {
    return this.seek('facets', [facet, value], number) === number;
  }

  /** [id, #N] of ids starting with `prefix`, in id order. */
  idsWithPrefix(prefix: string, limit: number): Array<{ id: string; number: number }> {
    const out: Array<{ id: string; number: number }> = [];
    for (const key of this.tables.ids.getKeys({ start: [prefix], end: [`${prefix}\uffff`], limit })) {
      const [id, number] = key as [string, number];
      out.push({ id, number });
    }
    return out;
  }

  // ---- writes ------------------------------------------------------------------------------------------------

  /** Applies every op in one transaction; resolves once it is on disk, rejects (nothing applied) otherwise. */
  async write(ops: readonly Op[]): Promise<void> {
    if (ops.length === 0) return;
    const { tables } = this;
    let done: Promise<unknown>;
    try {
      done = this.env.batch(() => {
        for (const op of ops) {
          if (op.remove) void tables[op.table].remove(op.key, op.value);
          else if (op.value === undefined) void tables[op.table].remove(op.key);
          else void tables[op.table].put(op.key, op.value);
        }
      });
    } catch (err) {
      throw new StoreWriteError(describe(err), codeOf(err));
    }
    try {
      await done;
    } catch (err) {
      throw await unwrapCommitError(err);
    }
  }

  /** A consistent copy of the database (LMDB's copy, compacted), made while the bot runs. */
  backup(path: string): Promise<void> {
    return this.env.backup(path, true);
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}

/** A write did not reach the disk. `code` is the system error code when one is known (ENOSPC, EIO, …). */
export class StoreWriteError extends Error {
  /** Set by the store when it found the disk full (ENOSPC, a quota, or an I/O error with almost no space left). */
  diskFull = false;

  constructor(
    readonly reason: string,
    readonly code?: string,
  ) {
    super(`the incident store could not write: ${reason}`);
    this.name = 'StoreWriteError';
  }
}

const ERRNO: Record<number, string> = { 28: 'ENOSPC', 122: 'EDQUOT', 5: 'EIO', 30: 'EROFS', 13: 'EACCES', 27: 'EFBIG' };

/**
 * lmdb-js rejects a failed commit with "Commit failed" and puts the cause on `commitError`, a promise nobody else
 * awaits (left alone it is an unhandled rejection: kriszyp/lmdb-js#368). Await it, and keep only a short, fixed
 * description: the native message carries buffer addresses.
 */
async function unwrapCommitError(err: unknown): Promise<StoreWriteError> {
  const pending = (err as { commitError?: Promise<unknown> })?.commitError;
  let cause: unknown = err;
  if (pending && typeof pending.then === 'function') {
    try {
      await pending;
    } catch (inner) {
      cause = inner;
    }
  }
  return new StoreWriteError(describe(cause), codeOf(cause));
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string') return code;
  if (typeof code === 'number') return ERRNO[code] ?? `error ${code}`;
  return undefined;
}

function describe(err: unknown): string {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const known = message.match(/^(No space left on device|Input\/output error|Read-only file system|Permission denied|Disk quota exceeded|File too large|MDB_[A-Z_]+)/);
  return known?.[1] ?? (code ? `system error ${code}` : 'write failed');
}

export { StoreDamagedError };
