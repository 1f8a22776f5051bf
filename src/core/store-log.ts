/**
 * The store's append-only log: one JSON value per line, written in batches that end with a commit line.
 *
 *   {"r":<stored incident>}   the whole current state of one incident (a later line for the same #N replaces it)
 *   {"o":<outbox entry>}      an owed stanza, new or changed
 *   {"d":"<outbox id>"}       an owed stanza done (delivered, refused or given up)
 *   {"c":<next #N>}           end of a batch: everything since the previous commit line counts only if this is there
 *
 * A batch is one write to a file opened with O_DSYNC (the write returns once the data is on disk), so a report is acknowledged only once its line is on disk, and the
 * cost of a commit depends on what changed, not on how many incidents are stored. A crash in the middle of a write
 * leaves a torn batch without its commit line: it was never acknowledged, and replay drops it.
 *
 * A record's bytes can be read back on their own (`readRecord`) from the offset replay or append reported, so
 * the store keeps only an index in memory and loads incidents when asked.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { OutboxEntry, StoredIncident } from './stored-incident.js';

/** Where one record's JSON sits in the log. */
export interface RecordSpan {
  offset: number;
  length: number;
}

export type LogOp =
  | { kind: 'record'; number: number; json: string }
  | { kind: 'outbox'; entry: OutboxEntry }
  | { kind: 'done'; id: string };

/** What replay found after the checkpoint, in log order. */
export interface ReplayedBatch {
  records: Array<{ record: StoredIncident; span: RecordSpan }>;
  outbox: OutboxEntry[];
  done: string[];
  nextNumber: number;
}

const RECORD_PREFIX = '{"r":';
const NEWLINE = 0x0a;

export class IncidentLog {
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    private end: number,
  ) {}

  /** Opens (creating) the log and drops a torn final batch; `validEnd` is where the last complete batch ends. */
  static async open(path: string, validEnd: number): Promise<IncidentLog> {
    // Read-write, not append: batches are written at explicit positions, and a failed one is cut off by truncate.
    // O_DSYNC: a write returns once its data is on disk, so a batch is one system call, not a write plus fdatasync.
    const handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_DSYNC, 0o600);
    const { size } = await handle.stat();
    if (size > validEnd) await handle.truncate(validEnd);
    return new IncidentLog(handle, path, validEnd);
  }

  /** Bytes of complete batches in the log. */
  get size(): number {
    return this.end;
  }

  /**
   * Writes one batch and waits until it is on disk. Returns where each record landed, in `ops` order. On failure
   * the file is cut back to where it was, so a retry starts clean.
   */
  async append(ops: readonly LogOp[], nextNumber: number): Promise<Map<number, RecordSpan>> {
    const spans = new Map<number, RecordSpan>();
    const parts: string[] = [];
    let at = this.end;
    for (const op of ops) {
      let line: string;
      if (op.kind === 'record') {
        const length = Buffer.byteLength(op.json);
        spans.set(op.number, { offset: at + RECORD_PREFIX.length, length });
        line = `${RECORD_PREFIX}${op.json}}\n`;
        at += RECORD_PREFIX.length + length + 2;
      } else {
        line = op.kind === 'outbox' ? `{"o":${JSON.stringify(op.entry)}}\n` : `{"d":${JSON.stringify(op.id)}}\n`;
        at += Buffer.byteLength(line);
      }
      parts.push(line);
    }
    parts.push(`{"c":${nextNumber}}\n`);
    const bytes = Buffer.from(parts.join(''));
    try {
      await this.handle.write(bytes, 0, bytes.length, this.end);
    } catch (err) {
      await this.handle.truncate(this.end).catch(() => undefined);
      throw err;
    }
    this.end += bytes.length;
    return spans;
  }

  /**
   * One record's JSON, read synchronously: a single small positioned read from the page cache costs microseconds,
   * and keeping it synchronous keeps every lookup in the store (and so in the workflow and commands) synchronous.
   */
  readRecord(span: RecordSpan): StoredIncident {
    return readRecordAt(this.handle.fd, span, this.path);
  }

  /** The raw bytes of one record (compaction copies them without parsing). */
  async readRaw(span: RecordSpan): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(span.length);
    await this.handle.read(buffer, 0, span.length, span.offset);
    return buffer;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** One record's JSON at `span` in an open log file (the store's handle, or a read-only reader's). */
export function readRecordAt(fd: number, span: RecordSpan, path: string): StoredIncident {
  const buffer = Buffer.allocUnsafe(span.length);
  const read = readSync(fd, buffer, 0, span.length, span.offset);
  if (read !== span.length) throw new Error(`incident store log ${path}: short read at byte ${span.offset}`);
  return JSON.parse(buffer.toString('utf8')) as StoredIncident;
}

/** The outbox as of a checkpoint, with the log's later changes applied in order. */
export function outboxAfter(base: readonly OutboxEntry[], batch: Pick<ReplayedBatch, 'outbox' | 'done'>): OutboxEntry[] {
  const byId = new Map(base.map((e) => [e.id, e]));
  for (const entry of batch.outbox) byId.set(entry.id, entry);
  for (const id of batch.done) byId.delete(id);
  return [...byId.values()];
}

/**
 * Reads the log from `from` (where the checkpoint stopped) and returns the complete batches found there, and the
 * byte where the last complete batch ends. A malformed line inside a complete batch is corruption, not a torn
 * write, and is an error: the store refuses to open rather than lose acknowledged reports silently.
 */
export function replayLog(path: string, from: number, nextNumber: number): { batch: ReplayedBatch; validEnd: number } {
  const batch: ReplayedBatch = { records: [], outbox: [], done: [], nextNumber };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { batch, validEnd: 0 };
    throw err;
  }
  try {
    const bytes = readFrom(fd, from);
    let pending: Array<() => void> = [];
    let validEnd = from;
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
        if (!hasCommitAfter(bytes, pos)) break; // a torn batch at the end
        throw new Error(`incident store log ${path} is corrupt at byte ${lineStart}`);
      }
      if (value.r) {
        const record = value.r;
        const span = { offset: lineStart + RECORD_PREFIX.length, length: line.length - RECORD_PREFIX.length - 1 };
        pending.push(() => batch.records.push({ record, span }));
      } else if (value.o) {
        const entry = value.o;
        pending.push(() => batch.outbox.push(entry));
      } else if (typeof value.d === 'string') {
        const id = value.d;
        pending.push(() => batch.done.push(id));
      } else if (typeof value.c === 'number') {
        for (const apply of pending) apply();
        pending = [];
        batch.nextNumber = Math.max(batch.nextNumber, value.c);
        validEnd = from + pos;
      } else {
        throw new Error(`incident store log ${path} has an unknown line at byte ${lineStart}`);
      }
    }
    return { batch, validEnd };
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

/** Whether a commit line follows `pos`: a bad line before one means corruption, after the last one a torn write. */
function hasCommitAfter(bytes: Buffer, pos: number): boolean {
  return bytes.indexOf('\n{"c":', pos - 1) !== -1;
}
