/**
 * The operator's store commands (`incident-bot --config FILE --backup TARGET | --check-store | --repair-store`),
 * each returning the lines to print and whether it succeeded.
 *
 * --backup and --check-store only read, so they work while the bot runs (LMDB readers never block the writer);
 * --repair-store rewrites the database and takes the store's lock, so the bot must be stopped.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StoreDb } from './store-db.js';
import { StoreLock } from './store-lock.js';
import { readStoreDocument } from './store-manifest.js';
import { checkDatabase, rebuildDatabase } from './store-repair.js';

export interface AdminResult {
  ok: boolean;
  lines: string[];
}

/** The database file of a store in the current format; an earlier format is migrated by starting the bot. */
async function databaseOf(path: string): Promise<string> {
  const doc = await readStoreDocument(path);
  if (!doc) throw new Error(`there is no incident store at ${path}`);
  if (doc.kind !== 'manifest') throw new Error(`${path} is a store in an earlier format: start the bot once to migrate it`);
  const file = join(dirname(path), doc.manifest.database);
  if (!existsSync(file)) throw new Error(`the database ${file} named by ${path} is missing`);
  return file;
}

/** A consistent, compacted copy of the database at `target` (restore: stop the bot, copy it over incidents.mdb). */
export async function backupStore(path: string, target: string): Promise<AdminResult> {
  const file = await databaseOf(path);
  const to = resolve(target);
  if (existsSync(to)) return { ok: false, lines: [`${to} exists already; give a new file name`] };
  const db = StoreDb.open(file, { readOnly: true });
  try {
    await db.backup(to);
  } finally {
    await db.close();
  }
  return { ok: true, lines: [`backed up ${file} to ${to}`, `to restore: stop the bot, copy ${to} to ${file}, remove ${file}-lock, start the bot`] };
}

export async function checkStore(path: string): Promise<AdminResult> {
  const file = await databaseOf(path);
  const report = await checkDatabase(file);
  const lines = [`${file}: ${report.incidents} incidents`];
  if (report.problems.length === 0) return { ok: true, lines: [...lines, 'no problem found'] };
  return {
    ok: false,
    lines: [...lines, ...report.problems.map((p) => `problem: ${p}`), 'restore a backup, or stop the bot and run incident-bot --config FILE --repair-store'],
  };
}

export async function repairStore(path: string): Promise<AdminResult> {
  const file = await databaseOf(path);
  const lock = StoreLock.acquire(path);
  try {
    const report = await rebuildDatabase(file, { reason: 'repair' });
    return {
      ok: true,
      lines: [
        `rebuilt ${file}: ${report.incidents} incidents kept`,
        report.damaged.length ? `left out (damaged): ${report.damaged.join(', ')}` : 'nothing was damaged',
        `the previous file is kept as ${report.keptAs}`,
      ],
    };
  } finally {
    lock.release();
  }
}
