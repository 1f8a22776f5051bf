/**
 * The store's checkpoint: a lowdb JSON document (rewritten atomically: temp file + rename) holding the index of
 * every incident (its #N, key, state and where its record sits in the log), the outbox, and how much of the log
 * it already covers. Opening the store reads this small document and replays only the log written after it,
 * instead of parsing every incident.
 */
import { basename } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import type { OutboxEntry, StoredIncident, TriageState } from './stored-incident.js';

/** One incident in the index: [#N, key, state, trusted (1/0), from, record offset, record length]. */
export type IndexRow = [number: number, key: string, state: TriageState, trusted: 0 | 1, from: string, offset: number, length: number];

export interface Checkpoint {
  version: 2;
  /** File name of the log, in the checkpoint's directory (a new one after each compaction). */
  log: string;
  /** Bytes of the log already reflected here; replay starts there. */
  logOffset: number;
  nextNumber: number;
  outbox: OutboxEntry[];
  index: IndexRow[];
}

/** The first store format: every incident inline in one lowdb document. Opened once, then migrated. */
export interface InlineStore {
  version: 1;
  nextNumber: number;
  incidents: StoredIncident[];
  outbox?: OutboxEntry[];
}

export type StoreDocument = Checkpoint | InlineStore;

/** The log file of a new store: `incidents.json` → `incidents.1.log`, next to it. */
export function firstLogName(path: string): string {
  return `${basename(path).replace(/\.json$/i, '')}.1.log`;
}

/** What a store without a checkpoint yet starts from: nothing, and its first log (replayed in full if it exists). */
export function emptyCheckpoint(path: string): Checkpoint {
  return { version: 2, log: firstLogName(path), logOffset: 0, nextNumber: 1, outbox: [], index: [] };
}

/** lowdb keeps its default data for a falsy file content (`null`, `0`): refuse anything that is not a store. */
function parseStoreDocument(text: string): StoreDocument {
  const data = JSON.parse(text) as { version?: unknown; nextNumber?: unknown; index?: unknown; log?: unknown; incidents?: unknown } | null;
  const ok =
    typeof data === 'object' &&
    data !== null &&
    typeof data.nextNumber === 'number' &&
    ((data.version === 2 && Array.isArray(data.index) && typeof data.log === 'string') || Array.isArray(data.incidents));
  if (!ok) throw new Error('not an incident store file');
  return data as StoreDocument;
}

export class CheckpointFile {
  private constructor(private readonly db: Low<StoreDocument | null>) {}

  /** Reads the checkpoint; `undefined` when there is none yet (a new store). A corrupt file is an error. */
  static async read(path: string): Promise<{ file: CheckpointFile; document: StoreDocument | undefined }> {
    const adapter = new DataFile<StoreDocument | null>(path, { parse: parseStoreDocument, stringify: (d) => JSON.stringify(d) });
    const db = new Low<StoreDocument | null>(adapter, null);
    await db.read();
    return { file: new CheckpointFile(db), document: db.data ?? undefined };
  }

  /** Writes a checkpoint. The document is serialised before the first await, so later changes do not leak in. */
  write(checkpoint: Checkpoint): Promise<void> {
    this.db.data = checkpoint;
    return this.db.write();
  }
}
