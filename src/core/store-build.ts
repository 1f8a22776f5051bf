/**
 * Builds a complete database file from a stream of records: a new store, the migration of a v1/v2 store, a
 * repair (the readable records of a damaged file) and an index rebuild all go through here. Records go in
 * batches of a thousand per transaction; the `ready` mark is written last, in a transaction of its own, so a
 * file without it is an interrupted build and is thrown away and rebuilt, never used.
 */
import { rmSync } from 'node:fs';
import { commitOps, recordsWithIndexOps } from './store-batch.js';
import { StoreDamagedError } from './store-codec.js';
import { StoreDb } from './store-db.js';
import { INDEX_VERSION } from './store-index.js';
import type { OutboxEntry, StoredIncident } from './stored-incident.js';

/** The store format this code writes (v1: inline lowdb document, v2: log + checkpoint, v3: LMDB). */
export const STORE_FORMAT = 3;
const BATCH = 1000;

export interface StoreSource {
  records(): Iterable<StoredIncident>;
  outbox: readonly OutboxEntry[];
  nextNumber: number;
}

export const EMPTY_SOURCE: StoreSource = { records: () => [], outbox: [], nextNumber: 1 };

export function removeDatabase(file: string): void {
  rmSync(file, { force: true });
  rmSync(`${file}-lock`, { force: true });
}

/** Writes `source` into a new database at `file` (replacing any file there). Returns how many incidents it holds. */
export async function buildDatabase(
  file: string,
  source: StoreSource,
  opts: { meta?: ReadonlyArray<[string, unknown]>; progress?: (done: number) => void } = {},
): Promise<number> {
  removeDatabase(file);
  const db = StoreDb.open(file);
  try {
    let chunk: StoredIncident[] = [];
    let done = 0;
    let last = 0;
    const flush = async () => {
      await db.write(recordsWithIndexOps(db, chunk));
      done += chunk.length;
      chunk = [];
      opts.progress?.(done);
    };
    for (const record of source.records()) {
      chunk.push(record);
      last = Math.max(last, record.number);
      if (chunk.length === BATCH) await flush();
    }
    if (chunk.length > 0) await flush();
    const outbox = source.outbox.map((entry, i) => ({ seq: i + 1, entry }));
    const meta: Array<[string, unknown]> = [
      ['format', STORE_FORMAT],
      ['indexVersion', INDEX_VERSION],
      ['nextNumber', Math.max(source.nextNumber, last + 1)],
      ['outboxSeq', outbox.length + 1],
      ['records', done],
      ...(opts.meta ?? []),
    ];
    await db.write(commitOps(db, { records: [], outbox, meta }).ops);
    await db.write(commitOps(db, { records: [], outbox: [], meta: [['ready', true]] }).ops);
    return done;
  } finally {
    await db.close();
  }
}

/** Checks what the store relies on from the first moment: its metadata, newest record and outbox. */
export function verifyDatabase(db: StoreDb): { nextNumber: number; outboxSeq: number } {
  const format = db.meta<number>('format');
  if (format !== STORE_FORMAT) throw new Error(`${db.file} has store format ${String(format)}, this version reads format ${STORE_FORMAT}`);
  if (db.meta<boolean>('ready') !== true) throw new StoreDamagedError('the database', 'it was never completed');
  const nextNumber = db.meta<number>('nextNumber');
  const outboxSeq = db.meta<number>('outboxSeq');
  if (typeof nextNumber !== 'number' || typeof outboxSeq !== 'number') throw new StoreDamagedError("the store's metadata", 'counters missing');
  const last = db.lastNumber();
  if (last !== undefined) {
    if (last >= nextNumber) throw new StoreDamagedError("the store's metadata", `next number ${nextNumber} is not above the last incident #${last}`);
    db.record(last); // its checksum: the newest record is the one a restart most likely tore
  }
  for (const { seq } of db.outboxEntries()) {
    if (seq >= outboxSeq) throw new StoreDamagedError("the store's metadata", `outbox sequence ${outboxSeq} is not above entry ${seq}`);
  }
  return { nextNumber, outboxSeq };
}
