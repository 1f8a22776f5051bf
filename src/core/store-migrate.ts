/**
 * Finds (or makes) the database file behind `storage.path`, migrating an earlier store on its first open.
 *
 * Migration of a v1 or v2 store (see store-legacy.ts), restartable at every step:
 *   1. build `incidents.mdb` from the old files (store-build.ts; the file counts only once it carries its `ready`
 *      mark and the identity of the store it was built from, so an interrupted build is simply redone);
 *   2. move the old files into `incidents.pre-v3/` (the old `incidents.json` is copied there, not moved);
 *   3. replace `incidents.json` by the manifest naming the database (one atomic rename): from now on the store
 *      is the database.
 * Until step 3 the old files are the store; nothing is deleted. They stay in `incidents.pre-v3/` for the
 * operator to remove once satisfied (docs/deploying.md).
 */
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { buildDatabase, EMPTY_SOURCE, STORE_FORMAT } from './store-build.js';
import { StoreDb } from './store-db.js';
import { legacyLogs, openLegacy, type LegacyDocument } from './store-legacy.js';
import { databaseName, newManifest, readStoreDocument, writeManifest } from './store-manifest.js';

export type Note = (message: string) => void;

/** Where the old files of a migrated store are kept: `incidents.json` → `incidents.pre-v3/`. */
export function keptFolder(path: string): string {
  return join(dirname(path), `${basename(path).replace(/\.json$/i, '')}.pre-v3`);
}

/** The database file to open for the store at `path`, created or migrated as needed. */
export async function prepareDatabase(path: string, note: Note = () => {}): Promise<string> {
  const doc = await readStoreDocument(path);
  if (doc?.kind === 'manifest') {
    const file = join(dirname(path), doc.manifest.database);
    if (!existsSync(file)) {
      throw new Error(`its database ${file} is missing (named by ${path}): restore it from a backup (docs/deploying.md, "The store and backups")`);
    }
    return file;
  }
  const file = join(dirname(path), databaseName(path));
  if (doc?.kind === 'legacy') return migrate(path, file, doc.document, note);
  // No document: a new store, a database restored without its manifest, or a v2 log never checkpointed.
  if (existsSync(file) && (await readyMark(file)) !== undefined) {
    note(`adopting the database ${file} (no manifest ${path} yet)`);
  } else if (legacyLogs(path).length > 0) {
    return migrate(path, file, undefined, note);
  } else {
    await buildDatabase(file, EMPTY_SOURCE);
  }
  await writeManifest(path, newManifest(path));
  return file;
}

async function migrate(path: string, file: string, document: LegacyDocument | undefined, note: Note): Promise<string> {
  const legacy = openLegacy(path, document);
  const identity = { version: legacy.version, nextNumber: legacy.nextNumber, incidents: legacy.size, outbox: legacy.outbox.length };
  const built = existsSync(file) ? await readyMark(file) : undefined;
  if (JSON.stringify(built) !== JSON.stringify(identity)) {
    note(`migrating the v${legacy.version} incident store ${path} (${legacy.size} incidents) to ${file}`);
    let last = Date.now();
    const source = { records: () => legacy.records(), outbox: legacy.outbox, nextNumber: legacy.nextNumber };
    await buildDatabase(file, source, {
      meta: [['source', identity]],
      progress: (done) => {
        if (Date.now() - last > 5000) {
          last = Date.now();
          note(`migrated ${done} of ${legacy.size} incidents`);
        }
      },
    });
  }
  const kept = keptFolder(path);
  mkdirSync(kept, { recursive: true });
  if (document) copyFileSync(path, join(kept, basename(path)));
  for (const log of legacy.files) renameSync(log, join(kept, basename(log)));
  await writeManifest(path, newManifest(path, { migratedFrom: { version: legacy.version, at: new Date().toISOString(), incidents: legacy.size, keptIn: basename(kept) } }));
  note(`migrated ${legacy.size} incidents to ${file}; the previous files are kept in ${kept} (remove them once satisfied)`);
  return file;
}

/** What a complete database says it was built from (undefined: not complete, or not a store database). */
async function readyMark(file: string): Promise<unknown> {
  let db: StoreDb | undefined;
  try {
    db = StoreDb.open(file);
    if (db.meta<boolean>('ready') !== true || db.meta<number>('format') !== STORE_FORMAT) return undefined;
    return db.meta<unknown>('source') ?? 'new';
  } catch {
    return undefined;
  } finally {
    await db?.close();
  }
}
