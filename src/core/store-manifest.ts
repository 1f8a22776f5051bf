/**
 * `incidents.json` (the file `storage.path` names): a small lowdb document an operator can read, saying which
 * database file holds the store and where it came from. It is also the switch of a migration: it names the
 * database only once the database is complete, and it is replaced atomically (lowdb writes a temp file and
 * renames it). Before version 3 the same file was the store itself (v1) or its checkpoint (v2).
 */
import { basename } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { isLegacyDocument, type LegacyDocument } from './store-legacy.js';

export interface Manifest {
  format: 'xmpp-incident-bot store';
  version: 3;
  /** The LMDB file, in the manifest's folder. */
  database: string;
  createdAt: string;
  migratedFrom?: { version: 1 | 2; at: string; incidents: number; keptIn: string };
  repairedAt?: string;
  note: string;
}

export type StoreDocument = { kind: 'manifest'; manifest: Manifest } | { kind: 'legacy'; document: LegacyDocument };

const NOTE =
  'The incidents are in the LMDB file named by "database". Back it up with `incident-bot --config FILE --backup TARGET` ' +
  '(a consistent copy while the bot runs); check it with --check-store. See docs/deploying.md.';

/** The database file of a store: `incidents.json` → `incidents.mdb`. */
export function databaseName(path: string): string {
  return `${basename(path).replace(/\.json$/i, '')}.mdb`;
}

export function newManifest(path: string, extra: Partial<Manifest> = {}): Manifest {
  return { format: 'xmpp-incident-bot store', version: 3, database: databaseName(path), createdAt: new Date().toISOString(), ...extra, note: NOTE };
}

function isManifest(data: unknown): data is Manifest {
  const d = data as Partial<Manifest> | null;
  return typeof d === 'object' && d !== null && d.version === 3 && typeof d.database === 'string' && d.database.length > 0 && !d.database.includes('/');
}

/** lowdb keeps its default for a falsy content (`null`, `0`): anything that is not a store document is refused. */
function parse(text: string): Manifest | LegacyDocument {
  const data = JSON.parse(text) as unknown;
  if (isManifest(data) || isLegacyDocument(data)) return data;
  throw new Error('not an incident store file');
}

function file(path: string): Low<Manifest | LegacyDocument | null> {
  const adapter = new DataFile<Manifest | LegacyDocument | null>(path, { parse, stringify: (d) => `${JSON.stringify(d, null, 2)}\n` });
  return new Low<Manifest | LegacyDocument | null>(adapter, null);
}

/** The document at `path`; undefined when there is none (a new store). A damaged or foreign file is an error. */
export async function readStoreDocument(path: string): Promise<StoreDocument | undefined> {
  const db = file(path);
  await db.read();
  const data = db.data;
  if (!data) return undefined;
  return isManifest(data) ? { kind: 'manifest', manifest: data } : { kind: 'legacy', document: data };
}

export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  const db = file(path);
  db.data = manifest;
  await db.write();
}
