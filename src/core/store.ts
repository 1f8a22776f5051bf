/**
 * The incident store: every incident, its history and a stable short number, and what the bot owes peers.
 *
 * On disk (see store-log.ts and store-checkpoint.ts): an append-only log that each commit adds one batch to, and a
 * lowdb checkpoint that indexes it. In memory: only the index (#N, key, state, trust, sender, where the record
 * is) and a bounded cache of whole incidents, loaded from the log when asked. So a commit costs what changed, not
 * what is stored, and opening 100,000 incidents reads an index instead of parsing them all.
 *
 * Changes are group-committed: a caller changes incidents, calls `save()` for each, then awaits `commit()`; all
 * changes made while a write is in flight go out together in the next one. A caller acknowledges a peer only after
 * its commit resolves, so an acknowledged report is always on disk.
 */
import { readdir, mkdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Incident } from '../protocol/incident.js';
import { CheckpointFile, emptyCheckpoint, firstLogName, type Checkpoint, type IndexRow, type InlineStore } from './store-checkpoint.js';
import { StoreLock } from './store-lock.js';
import { IncidentLog, outboxAfter, replayLog, type LogOp, type RecordSpan } from './store-log.js';
import type { OutboxEntry, StoredIncident, TriageState } from './stored-incident.js';

export type * from './stored-incident.js';

/** What the store knows about an incident without loading it: enough to list, count and find it. */
export interface IncidentSummary {
  number: number;
  key: string;
  state: TriageState;
  trusted: boolean;
  from: string;
}

interface IndexEntry extends IncidentSummary {
  /**
   * The last committed version, as the checkpoint will list it (state and trust as they were written, which may
   * lag the live fields above until the next commit); undefined until the incident's first commit.
   */
  row?: IndexRow;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface StoreTuning {
  /** Whole incidents kept in memory (most recently used); the rest are read from the log when needed. */
  cacheSize: number;
  /** Write a new checkpoint once this much log was appended since the last one (bounds replay at start-up). */
  checkpointEveryBytes: number;
  /** Rewrite the log without superseded records once they take more room than the live ones and at least this. */
  compactMinGarbageBytes: number;
}

const DEFAULT_TUNING: StoreTuning = { cacheSize: 1000, checkpointEveryBytes: 8 << 20, compactMinGarbageBytes: 64 << 20 };

/**
 * The identity of an incident across formats and peers. A UUID is globally unique, so it alone identifies the
 * incident whoever relays it (this is what stops a forwarded report from becoming a second incident); other
 * IODEF ids are only unique within their issuing site.
 */
export function incidentKey(incident: Pick<Incident, 'id' | 'site'>): string {
  return UUID.test(incident.id) ? incident.id.toLowerCase() : `${(incident.site ?? '').toLowerCase()}/${incident.id}`;
}

export class IncidentStore {
  private readonly index = new Map<number, IndexEntry>();
  private readonly byKey = new Map<string, number>();
  private readonly cache = new Map<number, StoredIncident>();
  /** Changed since the last commit: written by the next one. */
  private readonly dirty = new Map<number, StoredIncident>();
  /** Being written right now. */
  private readonly inFlight = new Map<number, StoredIncident>();
  private readonly outboxEntries: OutboxEntry[];
  /** The outbox as the log has it: what a checkpoint may record. */
  private readonly committedOutbox: Map<string, OutboxEntry>;
  private outboxChanges = new Map<string, 'changed' | 'done'>();
  private nextNumber: number;
  /** `nextNumber` as of the last batch written. */
  private committedNextNumber: number;
  private checkpointedAt: number;
  /** Bytes of the latest committed record of every incident: the part of the log compaction keeps. */
  private liveBytes = 0;
  private lock: StoreLock | undefined;
  private pending: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private writing: Promise<void> | undefined;

  private constructor(
    private readonly tuning: StoreTuning,
    private readonly checkpointFile: CheckpointFile,
    private log: IncidentLog,
    state: { nextNumber: number; outbox: OutboxEntry[]; checkpointedAt: number },
  ) {
    this.nextNumber = state.nextNumber;
    this.committedNextNumber = state.nextNumber;
    this.outboxEntries = state.outbox;
    this.committedOutbox = new Map(state.outbox.map((e) => [e.id, e]));
    this.checkpointedAt = state.checkpointedAt;
  }

  /** Opens (or creates) the store. A corrupt file is an error, never silently replaced. */
  static async open(path: string, tuning: Partial<StoreTuning> = {}): Promise<IncidentStore> {
    const tune = { ...DEFAULT_TUNING, ...tuning };
    await mkdir(dirname(path), { recursive: true });
    const lock = StoreLock.acquire(path);
    try {
      const store = await IncidentStore.openLocked(path, tune);
      store.lock = lock;
      return store;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  private static async openLocked(path: string, tune: StoreTuning): Promise<IncidentStore> {
    let read: Awaited<ReturnType<typeof CheckpointFile.read>>;
    try {
      read = await CheckpointFile.read(path);
    } catch (err) {
      throw new Error(`cannot read the incident store ${path}: ${(err as Error).message}`);
    }
    const { file, document } = read;
    if (document?.version === 1) return IncidentStore.migrate(path, tune, file, document);
    // No checkpoint yet: a new store, or one that crashed before its first checkpoint (the log alone suffices).
    const checkpoint: Checkpoint = document ?? emptyCheckpoint(path);
    try {
      const logPath = join(dirname(path), checkpoint.log);
      const { batch, validEnd } = replayLog(logPath, checkpoint.logOffset, checkpoint.nextNumber);
      const log = await IncidentLog.open(logPath, Math.max(validEnd, checkpoint.logOffset));
      const outbox = outboxAfter(checkpoint.outbox, batch);
      const store = new IncidentStore(tune, file, log, { nextNumber: batch.nextNumber, outbox, checkpointedAt: checkpoint.logOffset });
      for (const row of checkpoint.index) store.indexRow(row);
      for (const { record, span } of batch.records) store.indexRecord(record, span);
      await removeStaleLogs(path, checkpoint.log);
      if (!document) await store.writeCheckpoint();
      if (store.needsCompaction()) await store.compact();
      return store;
    } catch (err) {
      throw new Error(`cannot read the incident store ${path}: ${(err as Error).message}`);
    }
  }

  /** A store in the first format (every incident inline in the lowdb file): its incidents move to a fresh log. */
  private static async migrate(path: string, tuning: StoreTuning, file: CheckpointFile, inline: InlineStore): Promise<IncidentStore> {
    const log = await IncidentLog.open(join(dirname(path), firstLogName(path)), 0);
    const outbox = inline.outbox ?? [];
    const store = new IncidentStore(tuning, file, log, { nextNumber: inline.nextNumber, outbox: [], checkpointedAt: 0 });
    for (const record of inline.incidents) {
      store.indexRecord(record);
      store.dirty.set(record.number, record);
    }
    for (const entry of outbox) store.enqueue(entry);
    await store.commit();
    await store.writeCheckpoint();
    return store;
  }

  /** Everything owed to peers, oldest first. */
  get outbox(): readonly OutboxEntry[] {
    return this.outboxEntries;
  }

  /** Owes a stanza to a peer. Call commit() before counting on it. */
  enqueue(entry: OutboxEntry): void {
    this.outboxEntries.push(entry);
    this.outboxChanges.set(entry.id, 'changed');
  }

  /** Records a change to an owed entry (attempts, next attempt, last error). */
  saveOutbox(entry: OutboxEntry): void {
    if (this.outboxEntries.includes(entry)) this.outboxChanges.set(entry.id, 'changed');
  }

  /** Removes a delivered (or given-up) entry. */
  dequeue(id: string): OutboxEntry | undefined {
    const index = this.outboxEntries.findIndex((e) => e.id === id);
    if (index === -1) return undefined;
    this.outboxChanges.set(id, 'done');
    return this.outboxEntries.splice(index, 1)[0];
  }

  get(key: string): StoredIncident | undefined {
    const number = this.byKey.get(key);
    return number === undefined ? undefined : this.getByNumber(number);
  }

  /** The `#N` of the incident with this key, without loading it. */
  numberOf(key: string): number | undefined {
    return this.byKey.get(key);
  }

  getByNumber(number: number): StoredIncident | undefined {
    const pending = this.dirty.get(number) ?? this.inFlight.get(number);
    if (pending) return pending;
    const cached = this.cache.get(number);
    if (cached) {
      this.cache.delete(number); // move to the most recently used end
      this.cache.set(number, cached);
      return cached;
    }
    const row = this.index.get(number)?.row;
    if (!row) return undefined;
    return this.remember(this.log.readRecord({ offset: row[5], length: row[6] }));
  }

  /** Every incident, newest (highest number) first, without loading them. */
  summaries(): IncidentSummary[] {
    const all: IncidentSummary[] = [];
    for (const { number, key, state, trusted, from } of this.index.values()) all.push({ number, key, state, trusted, from });
    return all.sort((a, b) => b.number - a.number);
  }

  /** Every incident, newest first, loaded one at a time (a search reads them all; only a few stay in memory). */
  *all(): Generator<StoredIncident> {
    for (const { number } of this.summaries()) {
      const stored = this.getByNumber(number);
      if (stored) yield stored;
    }
  }

  /** Every incident loaded, newest first: for tests and small stores; commands use summaries() and all(). */
  list(): StoredIncident[] {
    return [...this.all()];
  }

  get size(): number {
    return this.index.size;
  }

  /** Adds a new incident, giving it the next `#N`. Call commit() before telling anyone. */
  add(entry: Omit<StoredIncident, 'number' | 'key'>): StoredIncident {
    const stored: StoredIncident = { ...entry, number: this.nextNumber, key: incidentKey(entry.incident) };
    this.nextNumber += 1;
    this.indexRecord(stored);
    this.dirty.set(stored.number, stored);
    return stored;
  }

  /** Records that an incident was changed; the next commit writes it. */
  save(stored: StoredIncident): void {
    const entry = this.index.get(stored.number);
    if (!entry) throw new Error(`#${stored.number} is not in the store`);
    entry.state = stored.state;
    entry.trusted = stored.trusted;
    this.dirty.set(stored.number, stored);
  }

  /** Resolves once every change made so far is on disk (group commit: concurrent callers share one write). */
  commit(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** Waits for any write in flight (used at shutdown). */
  async flush(): Promise<void> {
    if (this.pending.length > 0 || this.writing || this.dirty.size > 0 || this.outboxChanges.size > 0) await this.commit();
  }

  /** Flushes, writes a checkpoint (so the next start replays nothing) and closes the log. */
  async close(): Promise<void> {
    await this.flush();
    await this.writeCheckpoint();
    await this.log.close();
    this.lock?.release();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.writeBatch();
          for (const waiter of batch) waiter.resolve();
        } catch (err) {
          for (const waiter of batch) waiter.reject(err);
          continue;
        }
        // Housekeeping runs between batches, after the waiters were released, so it never delays an acknowledgement
        // that was already on disk (later ones wait for it, which is rare: every few thousand reports).
        if (this.needsCompaction()) await this.compact();
        else if (this.log.size - this.checkpointedAt > this.tuning.checkpointEveryBytes) await this.writeCheckpoint();
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async writeBatch(): Promise<void> {
    if (this.dirty.size === 0 && this.outboxChanges.size === 0) return;
    const records = [...this.dirty.values()];
    const outboxChanges = this.outboxChanges;
    const ops: LogOp[] = records.map((r) => ({ kind: 'record', number: r.number, json: JSON.stringify(r) }));
    const written = records.map((r) => ({ state: r.state, trusted: r.trusted }));
    const nextNumber = this.nextNumber;
    for (const [id, change] of outboxChanges) {
      const entry = change === 'changed' ? this.outboxEntries.find((e) => e.id === id) : undefined;
      ops.push(entry ? { kind: 'outbox', entry } : { kind: 'done', id });
    }
    // Taken now: changes made while the write is in flight belong to the next batch. Until the write is done these
    // records are neither dirty nor readable from the log: lookups find them in `inFlight`, so a report arriving
    // meanwhile about the same incident changes this very object instead of a stale copy (or a duplicate).
    for (const r of records) this.inFlight.set(r.number, r);
    this.dirty.clear();
    this.outboxChanges = new Map();
    let spans: Map<number, RecordSpan>;
    try {
      spans = await this.log.append(ops, nextNumber);
    } catch (err) {
      for (const r of records) this.inFlight.delete(r.number);
      for (const r of records) if (!this.dirty.has(r.number)) this.dirty.set(r.number, r);
      for (const [id, change] of outboxChanges) if (!this.outboxChanges.has(id)) this.outboxChanges.set(id, change);
      throw err;
    }
    this.committedNextNumber = nextNumber;
    records.forEach((record, i) => {
      const entry = this.index.get(record.number);
      // The live summary follows what was written too, should a change have come after its save().
      if (entry && !this.dirty.has(record.number)) Object.assign(entry, written[i]);
      const span = spans.get(record.number);
      if (entry && span) this.setRow(entry, [record.number, record.key, written[i]!.state, written[i]!.trusted ? 1 : 0, record.from, span.offset, span.length]);
      this.inFlight.delete(record.number);
      if (!this.dirty.has(record.number)) this.remember(record);
    });
    for (const [id, change] of outboxChanges) {
      const entry = change === 'changed' ? this.outboxEntries.find((e) => e.id === id) : undefined;
      if (entry) this.committedOutbox.set(id, entry);
      else this.committedOutbox.delete(id);
    }
  }

  private async writeCheckpoint(): Promise<void> {
    const index: IndexRow[] = [];
    for (const e of this.index.values()) if (e.row) index.push(e.row);
    // Only what the log holds: changes made since the last batch are in the next one, not here.
    const checkpoint: Checkpoint = {
      version: 2,
      log: basename(this.log.path),
      logOffset: this.log.size,
      nextNumber: this.committedNextNumber,
      outbox: [...this.committedOutbox.values()],
      index,
    };
    await this.checkpointFile.write(checkpoint);
    this.checkpointedAt = checkpoint.logOffset;
  }

  /**
   * Rewrites the log with only the latest record of each incident, into a new file; the checkpoint is switched to
   * it in one atomic write, then the old file is removed. A crash at any point leaves one complete pair.
   */
  private async compact(): Promise<void> {
    const oldLog = this.log;
    const generation = Number(/\.(\d+)\.log$/.exec(oldLog.path)?.[1] ?? '1') + 1;
    const newPath = oldLog.path.replace(/\.\d+\.log$/, '') + `.${generation}.log`;
    const fresh = await IncidentLog.open(newPath, 0);
    const moved = new Map<number, RecordSpan>();
    const entries = [...this.index.values()].filter((e) => e.row);
    const CHUNK = 500;
    for (let i = 0; i < entries.length; i += CHUNK) {
      const ops: LogOp[] = [];
      for (const { row } of entries.slice(i, i + CHUNK)) {
        const json = (await oldLog.readRaw({ offset: row![5], length: row![6] })).toString('utf8');
        ops.push({ kind: 'record', number: row![0], json });
      }
      for (const [number, span] of await fresh.append(ops, this.committedNextNumber)) moved.set(number, span);
    }
    // The outbox is not in the new log: the checkpoint written next carries it.
    for (const e of entries) {
      const span = moved.get(e.number)!;
      this.setRow(e, [...e.row!.slice(0, 5), span.offset, span.length] as IndexRow);
    }
    this.log = fresh;
    await this.writeCheckpoint();
    await oldLog.close();
    await unlink(oldLog.path).catch(() => undefined);
  }

  private indexRow(row: IndexRow): void {
    const [number, key, state, trusted, from] = row;
    this.setRow(this.entryFor({ number, key, state, trusted: trusted === 1, from }), row);
  }

  private indexRecord(record: StoredIncident, span?: RecordSpan): void {
    const { number, state, trusted } = record;
    // The index lives as long as the bot: its strings must not be slices of a received stanza's text.
    const key = fresh(record.key);
    const from = fresh(record.from);
    const entry = this.entryFor({ number, key, state, trusted, from });
    if (span) this.setRow(entry, [number, key, state, trusted ? 1 : 0, from, span.offset, span.length]);
    this.cache.delete(number);
  }

  /** The index entry for #N, created or refreshed with these live fields (its committed row is kept). */
  private entryFor(summary: IncidentSummary): IndexEntry {
    const entry = this.index.get(summary.number);
    if (entry) return Object.assign(entry, summary);
    const created: IndexEntry = { ...summary };
    this.index.set(summary.number, created);
    this.byKey.set(summary.key, summary.number);
    return created;
  }

  private setRow(entry: IndexEntry, row: IndexRow): void {
    this.liveBytes += row[6] - (entry.row?.[6] ?? 0);
    entry.row = row;
  }

  private remember(record: StoredIncident): StoredIncident {
    this.cache.set(record.number, record);
    if (this.cache.size > this.tuning.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return record;
  }

  /** When superseded records take more room than the live ones (and more than the configured floor). */
  private needsCompaction(): boolean {
    const garbage = this.log.size - this.liveBytes;
    return garbage > Math.max(this.tuning.compactMinGarbageBytes, this.liveBytes);
  }
}

/** A copy of a string that shares no memory with it (a slice keeps its whole parent string alive). */
function fresh(text: string): string {
  return (' ' + text).slice(1);
}

/** Logs left by a compaction that crashed before or after switching the checkpoint. */
async function removeStaleLogs(path: string, current: string): Promise<void> {
  const stem = basename(path).replace(/\.json$/i, '');
  const pattern = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+\\.log$`);
  for (const name of await readdir(dirname(path))) {
    if (pattern.test(name) && name !== current) await unlink(join(dirname(path), name)).catch(() => undefined);
  }
}
