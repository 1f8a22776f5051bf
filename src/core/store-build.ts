/**
 * Builds a complete database file from a stream of records: a new store, the migration of a v1/v2 store, a
 * repair (the readable records of a damaged file) and an index rebuild all go through here. Records go in
 * batches of a thousand per transaction; the `ready` mark is written last, in a transaction of its own, so a
 * file without it is an interrupted build and is thrown away and rebuilt, never used.
 */
import { rmSync } from 'node:fs';
import { commitOps, recordsWithIndexOps } from './store-batch.js';
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
