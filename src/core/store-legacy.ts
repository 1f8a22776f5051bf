/**
 * Read-only access to the two earlier store formats, for the migration to the database (store-migrate.ts):
 *
 *   v1  every incident inline in one lowdb document (`incidents.json`: {version: 1, nextNumber, incidents, outbox})
 *   v2  an append-only log (`incidents.N.log`, JSON lines, each batch ended by a commit line) indexed by a lowdb
 *       checkpoint (`incidents.json`: {version: 2, log, logOffset, nextNumber, outbox, index}); the log after
 *       `logOffset` is replayed, a torn last batch (no commit line) dropped, a damaged line before one refused.
 *
 * Records are read one at a time, so migrating a large v2 store does not hold every incident in memory.
 */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { OutboxEntry, StoredIncident, TriageState } from './stored-incident.js';

/** One incident in a v2 index: [#N, key, state, trusted (1/0), from, record offset, record length]. */
type IndexRow = [number: number, key: string, state: TriageState, trusted: 0 | 1, from: string, offset: number, length: number];

export interface CheckpointV2 {
  version: 2;
  log: string;
  logOffset: number;
  nextNumber: number;
  outbox: OutboxEntry[];
  index: IndexRow[];
}

export interface InlineStoreV1 {
  version?: 1;
  nextNumber: number;
  incidents: StoredIncident[];
  outbox?: OutboxEntry[];
}

export type LegacyDocument = CheckpointV2 | InlineStoreV1;

export function isLegacyDocument(data: unknown): data is LegacyDocument {
  const d = data as { version?: unknown; nextNumber?: unknown; index?: unknown; log?: unknown; incidents?: unknown } | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.nextNumber === 'number' &&
    ((d.version === 2 && Array.isArray(d.index) && typeof d.log === 'string') || ((d.version === undefined || d.version === 1) && Array.isArray(d.incidents)))
  );
}

export interface LegacyStore {
  version: 1 | 2;
  nextNumber: number;
  outbox: OutboxEntry[];
  /** How many incidents it holds. */
  size: number;
  /** Every incident, by ascending #N, read one at a time. */
  records(): Generator<StoredIncident>;
  /** Its files besides the document (the logs), to keep aside once migrated. */
  files: string[];
}

/** The v2 log of a store whose checkpoint was never written: `incidents.json` → `incidents.1.log`. */
export function firstLogName(path: string): string {
  return `${basename(path).replace(/\.json$/i, '')}.1.log`;
}

/** Logs of a v2 store (also those a crashed compaction left). */
export function legacyLogs(path: string): string[] {
  const stem = basename(path).replace(/\.json$/i, '');
  const pattern = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+\\.log$`);
  try {
    return readdirSync(dirname(path)).filter((name) => pattern.test(name)).map((name) => join(dirname(path), name));
  } catch {
    return [];
  }
}

export function openLegacy(path: string, document: LegacyDocument | undefined): LegacyStore {
  if (document && document.version !== 2) {
    const inline = document;
    const incidents = [...inline.incidents].sort((a, b) => a.number - b.number);
    return {
      version: 1,
      nextNumber: inline.nextNumber,
      outbox: inline.outbox ?? [],
      size: incidents.length,
      records: () => incidents[Symbol.iterator]() as Generator<StoredIncident>,
      files: legacyLogs(path),
    };
  }
  // A v2 store, or a log whose first checkpoint was never written (the log alone is the store then).
  const checkpoint: CheckpointV2 = document ?? { version: 2, log: firstLogName(path), logOffset: 0, nextNumber: 1, outbox: [], index: [] };
  const logPath = join(dirname(path), checkpoint.log);
  const replay = replayLog(logPath, checkpoint.logOffset, checkpoint.nextNumber);
  const where = new Map<number, { span?: { offset: number; length: number }; record?: StoredIncident }>();
  for (const [number, , , , , offset, length] of checkpoint.index) where.set(number, { span: { offset, length } });
  for (const record of replay.records) where.set(record.number, { record });
  const numbers = [...where.keys()].sort((a, b) => a - b);
  return {
    version: 2,
    nextNumber: replay.nextNumber,
    outbox: outboxAfter(checkpoint.outbox, replay),
    size: numbers.length,
    *records() {
      const fd = numbers.length > 0 ? openSync(logPath, 'r') : undefined;
      try {
        for (const n of numbers) {
          const at = where.get(n)!;
          yield at.record ?? readRecordAt(fd!, at.span!, logPath, n);
        }
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
    files: legacyLogs(path),
  };
}

function readRecordAt(fd: number, span: { offset: number; length: number }, path: string, number: number): StoredIncident {
  const buffer = Buffer.allocUnsafe(span.length);
  const read = readSync(fd, buffer, 0, span.length, span.offset);
  if (read !== span.length) throw new Error(`incident store log ${path}: incident #${number} is cut short (the log ends before byte ${span.offset + span.length})`);
  try {
    return JSON.parse(buffer.toString('utf8')) as StoredIncident;
  } catch {
    throw new Error(`incident store log ${path}: incident #${number} at byte ${span.offset} is damaged`);
  }
}

interface Replayed {
  records: StoredIncident[];
  outbox: OutboxEntry[];
  done: string[];
  nextNumber: number;
}

function outboxAfter(base: readonly OutboxEntry[], replay: Replayed): OutboxEntry[] {
  const byId = new Map(base.map((e) => [e.id, e]));
  for (const entry of replay.outbox) byId.set(entry.id, entry);
  for (const id of replay.done) byId.delete(id);
  return [...byId.values()];
}

const NEWLINE = 0x0a;

/** The complete batches of the log after `from`; a damaged line inside a complete batch is an error. */
function replayLog(path: string, from: number, nextNumber: number): Replayed {
  const out: Replayed = { records: [], outbox: [], done: [], nextNumber };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && from === 0) return out;
    throw new Error(`the incident store log ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const bytes = readFrom(fd, from);
    let pending: Array<() => void> = [];
    let pos = 0;
    while (pos < bytes.length) {
      const eol = bytes.indexOf(NEWLINE, pos);
      if (eol === -1) break; // a torn last line
      const lineStart = from + pos;
      const line = bytes.subarray(pos, eol);
      pos = eol + 1;
      let value: { r?: StoredIncident; o?: OutboxEntry; d?: string; c?: number };
      try {
        value = JSON.parse(line.toString('utf8')) as typeof value;
      } catch {
        if (bytes.indexOf('\n{"c":', pos - 1) === -1) break; // a torn batch at the end
        throw new Error(`the incident store log ${path} is damaged at byte ${lineStart}`);
      }
      if (value.r) {
        const record = value.r;
        pending.push(() => out.records.push(record));
      } else if (value.o) {
        const entry = value.o;
        pending.push(() => out.outbox.push(entry));
      } else if (typeof value.d === 'string') {
        const id = value.d;
        pending.push(() => out.done.push(id));
      } else if (typeof value.c === 'number') {
        for (const apply of pending) apply();
        pending = [];
        out.nextNumber = Math.max(out.nextNumber, value.c);
      } else {
        throw new Error(`the incident store log ${path} has an unknown line at byte ${lineStart}`);
      }
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function readFrom(fd: number, from: number): Buffer {
  const chunks: Buffer[] = [];
  let position = from;
  for (;;) {
    const chunk = Buffer.allocUnsafe(1 << 20);
    const read = readSync(fd, chunk, 0, chunk.length, position);
    if (read === 0) break;
    chunks.push(read === chunk.length ? chunk : chunk.subarray(0, read));
    position += read;
  }
  return Buffer.concat(chunks);
}
