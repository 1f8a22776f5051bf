/**
 * Reads a store without opening it for writing (no lock, no migration, nothing changed), safe while the bot runs:
 * tests, the crash script and the benchmarks check what is on disk with it. Reads every incident: for checks of
 * small stores, not for the bot.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StoreDb } from './store-db.js';
import { openLegacy } from './store-legacy.js';
import { readStoreDocument } from './store-manifest.js';
import type { OutboxEntry, StoredIncident } from './stored-incident.js';

export interface StoreContents {
  nextNumber: number;
  /** Every committed incident, by ascending #N. */
  incidents: StoredIncident[];
  outbox: OutboxEntry[];
}

export async function readStoreContents(path: string): Promise<StoreContents> {
  const doc = await readStoreDocument(path);
  if (doc?.kind !== 'manifest') {
    const legacy = openLegacy(path, doc?.document);
    return { nextNumber: legacy.nextNumber, incidents: [...legacy.records()], outbox: legacy.outbox };
  }
  const file = join(dirname(path), doc.manifest.database);
  if (!existsSync(file)) throw new Error(`the database ${file} named by ${path} is missing`);
  const db = StoreDb.open(file, { readOnly: true });
  try {
    const incidents: StoredIncident[] = [];
    for (const n of db.numbers()) {
      const stored = db.record(n);
      if (stored) incidents.push(stored);
    }
    return { nextNumber: db.meta<number>('nextNumber') ?? 1, incidents, outbox: db.outboxEntries().map((e) => e.entry) };
  } finally {
    await db.close();
  }
}
