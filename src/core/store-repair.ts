/**
 * Checking and rebuilding a store's database, for the operator (`--check-store`, `--repair-store`) and for an
 * upgrade that changes what the indexes hold (INDEX_VERSION).
 *
 * A rebuild copies every record that passes its checksum into a new file, rebuilding every index and counter from
 * the records; damaged records (and outbox entries) are left out and listed. The new file replaces the old one
 * only once complete; the old one is kept beside it (`incidents.mdb.damaged-<time>` after a repair) or removed
 * (after a reindex, where nothing was damaged).
 */
import { renameSync } from 'node:fs';
import { buildDatabase, removeDatabase } from './store-build.js';
import { StoreDamagedError } from './store-codec.js';
import { StoreDb } from './store-db.js';
import type { Note } from './store-migrate.js';
import type { OutboxEntry, StoredIncident } from './stored-incident.js';

export interface RebuildReport {
  file: string;
  incidents: number;
  /** What could not be read and was left out: "incident #12", "outbox entry 3". */
  damaged: string[];
  /** Where the previous file was kept (repair), if it was. */
  keptAs?: string;
}

export async function rebuildDatabase(file: string, opts: { reason: 'repair' | 'reindex'; note?: Note }): Promise<RebuildReport> {
  const old = StoreDb.open(file);
  const damaged: string[] = [];
  const fresh = `${file}.rebuilding`;
  let incidents: number;
  try {
    const outbox: OutboxEntry[] = [];
    try {
      for (const { entry } of old.outboxEntries()) outbox.push(entry);
    } catch (err) {
      damaged.push(err instanceof StoreDamagedError ? err.what : 'the outbox');
    }
    const nextNumber = safely(() => old.meta<number>('nextNumber'), damaged) ?? 1;
    function* records(): Generator<StoredIncident> {
      for (const n of old.numbers()) {
        try {
          const stored = old.record(n);
          if (stored) yield stored;
        } catch (err) {
          if (!(err instanceof StoreDamagedError)) throw err;
          damaged.push(err.what);
        }
      }
    }
    let last = Date.now();
    incidents = await buildDatabase(fresh, { records, outbox, nextNumber }, {
      progress: (done) => {
        if (Date.now() - last > 5000) {
          last = Date.now();
          opts.note?.(`${opts.reason}: ${done} incidents copied`);
        }
      },
    });
  } catch (err) {
    removeDatabase(fresh);
    throw err;
  } finally {
    await old.close();
  }
  let keptAs: string | undefined;
  if (opts.reason === 'repair') {
    keptAs = `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(file, keptAs);
  }
  removeDatabase(file);
  renameSync(fresh, file);
  removeDatabase(`${fresh}`);
  return { file, incidents, damaged, ...(keptAs ? { keptAs } : {}) };
}

function safely<T>(read: () => T, damaged: string[]): T | undefined {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof StoreDamagedError)) throw err;
    damaged.push(err.what);
    return undefined;
  }
}

export interface CheckReport {
  incidents: number;
  problems: string[];
}

/** Reads every record, index entry and outbox entry and checks the counters against the records. */
export async function checkDatabase(file: string): Promise<CheckReport> {
  const db = StoreDb.open(file, { readOnly: true });
  const problems: string[] = [];
  let incidents = 0;
  const states = { open: 0, acked: 0, resolved: 0 };
  try {
    for (const name of ['format', 'nextNumber', 'outboxSeq', 'indexVersion', 'ready']) safely(() => db.meta(name), problems);
    safely(() => db.outboxEntries(), problems);
    for (const n of db.numbers()) {
      incidents += 1;
      const stored = safely(() => db.record(n), problems);
      if (stored) states[stored.state] = (states[stored.state] ?? 0) + 1;
      safely(() => db.reindexMark(n), problems);
      if (stored && db.numberOfKey(stored.key) !== n) problems.push(`the key of incident #${n} is not indexed`);
    }
    for (const state of ['open', 'acked', 'resolved'] as const) {
      const counted = db.count('state', state);
      if (counted !== states[state]) problems.push(`the ${state} counter says ${counted}, the records ${states[state]}`);
    }
  } finally {
    await db.close();
  }
  return { incidents, problems };
}
