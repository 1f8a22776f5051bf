/**
 * The incident store: every incident, its history and a stable short number, the indexes commands query, and
 * what the bot owes peers. On disk: an LMDB database (store-db.ts) named by the lowdb manifest at `storage.path`
 * (store-manifest.ts); an earlier store is migrated on its first open (store-migrate.ts).
 *
 * Changes are group-committed: a caller changes incidents, calls `save()` for each (or `add()`), then awaits
 * `commit()`; every change made before the next write goes out in it, in one transaction with the index entries,
 * counters and outbox changes that follow from it. A caller acknowledges a peer only after its commit resolved,
 * so an acknowledged report is on disk. A failed write undoes every change not on disk — the incidents, the
 * outbox, the numbers' index — and rejects every waiting commit: nothing is ever known that was not stored.
 *
 * Memory holds only what is changing (the incidents of the batch being written and of the next); lookups read
 * the database. The secondary indexes (list, search, counts) follow in index passes a fraction of a second later,
 * over many records at once (store-batch.ts); until then queries match those records directly (store-query.ts). A full disk makes the store unhealthy (see `health`): it says so once, keeps refusing what it
 * cannot write, probes every few seconds, and says when it writes again.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Incident } from '../protocol/incident.js';
import { bareJid } from '../protocol/validate.js';
import { commitOps, IndexPass, type OutboxChange } from './store-batch.js';
import { verifyDatabase } from './store-build.js';
import { StoreDamagedError } from './store-codec.js';
import { StoreDb, StoreWriteError } from './store-db.js';
import { HealthWatch, type StoreHealth } from './store-health.js';
import { INDEX_VERSION } from './store-index.js';
import { StoreLock } from './store-lock.js';
import { prepareDatabase, type Note } from './store-migrate.js';
import { listIncidents, searchIncidents, storeCounts, type FreshView, type ListQuery, type Page, type StoreCounts } from './store-query.js';
import { rebuildDatabase } from './store-repair.js';
import type { OutboxEntry, StoredIncident } from './stored-incident.js';

export type * from './stored-incident.js';
export { editableIncident } from './stored-incident.js';
export { StoreDamagedError, StoreWriteError };
export type { ListQuery, Page, StoreCounts, StoreHealth };

export interface StoreOptions {
  /** Progress of long operations at open (migration, index rebuild), for the log. */
  note?: Note;
  /** While unhealthy, how often to try a write (default 5 s). */
  probeIntervalMs?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The recovery probe writes this much, so "disk OK again" means room for real reports, not for a few bytes. */
const PROBE_BYTES = 256 * 1024;
/** An index pass starts this long after the first record it will cover was committed (more records share it)… */
const INDEX_DELAY_MS = 50;
/**
 * …and prepares entries for at most this long (at most INDEX_CHUNK records), so a commit waiting behind it waits a
 * few tens of milliseconds at most, while a sustained flood is still indexed as fast as it is stored.
 */
const INDEX_BUDGET_MS = 30;
const INDEX_CHUNK = 5000;
/**
 * …and at most this many index operations: in a large store each lands on a page of its own (copied, perhaps
 * read from disk first), about 25 µs apiece at a million incidents, so a pass holds the write lane ~40 ms at most.
 */
const INDEX_MAX_OPS = 1500;
/** Under a flood commits have the write lane; once the index lags this much, a pass goes between two commits. */
const INDEX_MAX_LAG_MS = 250;
/** …or once this many records wait, whatever the time (a flood faster than one pass per 250 ms can index). */
const INDEX_MAX_LAG_RECORDS = 2000;

/**
 * The identity of an incident across formats and peers. A UUID is globally unique, so it alone identifies the
 * incident whoever relays it (this is what stops a forwarded report from becoming a second incident); other
 * IODEF ids are only unique within their issuing site.
 */
export function incidentKey(incident: Pick<Incident, 'id' | 'site'>): string {
  return UUID.test(incident.id) ? incident.id.toLowerCase() : `${(incident.site ?? '').toLowerCase()}/${incident.id}`;
}

/** The store could not be opened (damaged, locked by another bot, migration failed): the message says why. */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class IncidentStore {
  /** Changed since the last batch was taken: written by the next one. */
  private readonly dirty = new Map<number, StoredIncident>();
  /** Being written right now (lookups still find them: a report arriving meanwhile changes this very object). */
  private readonly inFlight = new Map<number, StoredIncident>();
  /** Keys of incidents added and not committed yet (the database's key index does not have them). */
  private readonly newKeys = new Map<string, number>();
  private outboxEntries: OutboxEntry[] = [];
  private outboxSeqs = new Map<string, number>();
  private outboxChanges = new Map<string, OutboxChange>();
  private waiters: Waiter[] = [];
  /** The write in progress (a commit or an index pass): writes are serialised. */
  private lane: Promise<void> | undefined;
  /** Records committed since their index pass (their `reindex` marks), and since when the oldest waits. */
  private readonly unindexed = new Set<number>();
  private unindexedSince = 0;
  private indexTimer: NodeJS.Timeout | undefined;
  /** Incidents in the database (kept in the metadata with each commit that adds some). */
  private records: number;
  /** Commits that shared the last write (the commit window widens under a flood). */
  private lastBatch = 0;
  private committedMeta: { nextNumber: number; outboxSeq: number };
  private readonly healthWatch: HealthWatch;
  private closed = false;

  private constructor(
    private readonly db: StoreDb,
    private readonly lock: StoreLock,
    /** The manifest's path (`storage.path`). */
    readonly path: string,
    private nextNumber: number,
    private nextOutboxSeq: number,
    private readonly probeMs: number,
  ) {
    this.committedMeta = { nextNumber, outboxSeq: nextOutboxSeq };
    this.healthWatch = new HealthWatch(db.file, probeMs, () => this.probe());
    // Index passes held back while the store could not write resume with it.
    this.healthWatch.onChange((health) => health.ok && !this.closed && this.kick());
    this.records = db.meta<number>('records') ?? db.recordCount();
    this.loadOutbox();
    // Marks left by a crash between a commit and its index pass: caught up from the start.
    for (const n of db.reindexMarks()) this.unindexed.add(n);
    if (this.unindexed.size > 0) this.scheduleIndex();
  }

  /** Opens (creating or migrating) the store. A damaged store is an error naming what is damaged, never replaced. */
  static async open(path: string, opts: StoreOptions = {}): Promise<IncidentStore> {
    await mkdir(dirname(path), { recursive: true });
    let lock: StoreLock;
    try {
      lock = StoreLock.acquire(path);
    } catch (err) {
      throw new StoreOpenError((err as Error).message);
    }
    let db: StoreDb | undefined;
    try {
      let file = await prepareDatabase(path, opts.note);
      db = StoreDb.open(file);
      if (db.meta<number>('indexVersion') !== INDEX_VERSION) {
        await db.close();
        db = undefined;
        opts.note?.(`rebuilding the indexes of ${file} (index version ${INDEX_VERSION})`);
        file = (await rebuildDatabase(file, { reason: 'reindex', note: opts.note })).file;
        db = StoreDb.open(file);
      }
      const { nextNumber, outboxSeq } = verifyDatabase(db);
      return new IncidentStore(db, lock, path, nextNumber, outboxSeq, opts.probeIntervalMs ?? 5000);
    } catch (err) {
      await db?.close().catch(() => undefined);
      lock.release();
      throw new StoreOpenError(`cannot open the incident store ${path}: ${(err as Error).message}`);
    }
  }

  // ---- lookups ----------------------------------------------------------------------------------------------

  get(key: string): StoredIncident | undefined {
    const number = this.numberOf(key);
    return number === undefined ? undefined : this.getByNumber(number);
  }

  /** The `#N` of the incident with this key, without loading it. */
  numberOf(key: string): number | undefined {
    return this.newKeys.get(key) ?? this.db.numberOfKey(key);
  }

  /** The incident `#N`. Throws StoreDamagedError when its record fails its checksum. */
  getByNumber(number: number): StoredIncident | undefined {
    return this.dirty.get(number) ?? this.inFlight.get(number) ?? this.db.record(number);
  }

  /** The `#N` of an incident with this id (any site), for `Related:` lines. */
  numberOfId(id: string): number | undefined {
    const wanted = id.toLowerCase();
    return this.findByIdPrefix(wanted, 10).find((m) => m.id === wanted)?.number;
  }

  /** Incidents whose id starts with `prefix` (any case), at most `limit`, committed or not. */
  findByIdPrefix(prefix: string, limit = 10): Array<{ number: number; id: string }> {
    const wanted = prefix.toLowerCase();
    const found = new Map<number, string>();
    for (const stored of [...this.pending(), ...this.fresh().newestFirst()]) {
      const id = stored.incident.id.toLowerCase();
      if (id.startsWith(wanted) && !found.has(stored.number)) found.set(stored.number, id);
    }
    for (const { id, number } of this.db.idsWithPrefix(wanted, limit)) if (!this.unindexed.has(number) && !found.has(number)) found.set(number, id);
    return [...found]
      .sort((a, b) => b[0] - a[0])
      .slice(0, limit)
      .map(([number, id]) => ({ number, id }));
  }

  /**
   * The newest incident that is not resolved, has `jid` (compared as a bare JID) among its sources, and
   * satisfies `predicate` — e.g. the open abuse report about a reported JID, to group further reports into.
   */
  findOpenBySource(jid: string, predicate: (stored: StoredIncident) => boolean = () => true): StoredIncident | undefined {
    const wanted = bareJid(jid);
    const pending = new Map<number, StoredIncident>();
    for (const stored of this.pending()) pending.set(stored.number, stored);
    const hasSource = (s: StoredIncident) => s.incident.sources.some((n) => n.addresses.some((a) => a.kind === 'jid' && bareJid(a.value) === wanted));
    for (const stored of [...pending.values()].sort((a, b) => b.number - a.number)) {
      if (stored.state !== 'resolved' && hasSource(stored) && predicate(stored)) return stored;
    }
    // Not yet indexed: matched on the records themselves.
    for (const stored of this.fresh().newestFirst()) {
      if (pending.has(stored.number)) continue;
      pending.set(stored.number, stored);
      if (stored.state !== 'resolved' && hasSource(stored) && predicate(stored)) return stored;
    }
    for (const n of this.db.newestFirst('facets', ['open-source', wanted.slice(0, 200)])) {
      if (pending.has(n)) continue;
      const stored = this.db.record(n);
      if (stored && stored.state !== 'resolved' && hasSource(stored) && predicate(stored)) return stored;
    }
    return undefined;
  }

  /** Incidents matching a list query, newest first, a page at a time (what is committed). */
  query(query: ListQuery = {}): Page {
    return listIncidents(this.db, query, (n) => this.getByNumber(n), this.fresh());
  }

  /**
   * Every incident, newest first, committed or not, all loaded: for tests and tools on small stores. Commands
   * use query(), search() and counts(), whose cost does not grow with the store.
   */
  list(): StoredIncident[] {
    const pending = new Map<number, StoredIncident>();
    for (const stored of this.pending()) pending.set(stored.number, stored);
    const all = [...pending.values()];
    for (const n of this.db.numbers()) if (!pending.has(n)) all.push(this.db.record(n)!);
    return all.sort((a, b) => b.number - a.number);
  }

  /** Incidents matching every word of `query` (IP, JID, domain or word: see store-index.ts), newest first. */
  search(query: string, opts: { limit?: number; before?: number } = {}): Page & { terms: string[] } {
    return searchIncidents(this.db, query, opts, (n) => this.getByNumber(n), this.fresh());
  }

  /**
   * Counts by state, trust and reporting domain, from the maintained counters (O(1)); `total` is exact, the
   * others follow the index passes (a fraction of a second behind the last commits).
   */
  counts(): StoreCounts {
    return { ...storeCounts(this.db), total: this.records };
  }

  /** Incidents stored, and added but not yet committed. */
  /** The database file (incidents.mdb), for its size in the metrics. */
  get databaseFile(): string {
    return this.db.file;
  }

  get size(): number {
    return this.records + this.newKeys.size;
  }

  // ---- changes ----------------------------------------------------------------------------------------------

  /** Adds a new incident, giving it the next `#N`. Call commit() before telling anyone. */
  add(entry: Omit<StoredIncident, 'number' | 'key'>): StoredIncident {
    const stored: StoredIncident = { ...entry, number: this.nextNumber, key: incidentKey(entry.incident) };
    this.nextNumber += 1;
    this.newKeys.set(stored.key, stored.number);
    this.dirty.set(stored.number, stored);
    return stored;
  }

  /** Records that an incident was changed; the next commit writes it. */
  save(stored: StoredIncident): void {
    if (!this.dirty.has(stored.number) && !this.inFlight.has(stored.number) && !this.db.hasRecord(stored.number)) {
      throw new Error(`#${stored.number} is not in the store`);
    }
    this.dirty.set(stored.number, stored);
  }

  /**
   * Resolves once every change made so far is on disk (group commit: the changes of everyone who calls it
   * before the next write share that write). Rejects with StoreWriteError when the write failed: the changes
   * were undone.
   */
  commit(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the incident store is closed'));
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.kick();
    });
  }

  /** Waits until everything changed so far is written and indexed (shutdown, tests, tools). */
  async flush(): Promise<void> {
    if (this.waiters.length > 0 || this.lane || this.dirty.size > 0 || this.outboxChanges.size > 0) await this.commit();
    while ((this.unindexed.size > 0 && this.healthWatch.ok) || this.lane) {
      if (!this.lane) this.startLane(() => this.indexPass());
      await this.lane;
    }
  }

  /**
   * Writes what is pending and closes. Always releases the lock, even when the last write fails (a full disk at
   * shutdown): what it could not write was never acknowledged. Resolves with whether everything was saved.
   */
  async close(): Promise<{ saved: boolean }> {
    if (this.closed) return { saved: true };
    this.healthWatch.stop();
    clearTimeout(this.indexTimer);
    let saved = true;
    try {
      await this.flush();
    } catch {
      saved = false;
    }
    this.closed = true;
    try {
      await this.db.close();
    } finally {
      this.lock.release();
    }
    return { saved };
  }

  /** A consistent, compacted copy of the database at `target`, made while the bot runs. */
  backup(target: string): Promise<void> {
    return this.db.backup(target);
  }

  // ---- the outbox -------------------------------------------------------------------------------------------

  /** Everything owed to peers, oldest first. */
  get outbox(): readonly OutboxEntry[] {
    return this.outboxEntries;
  }

  /** Owes a stanza to a peer. Call commit() before counting on it. */
  enqueue(entry: OutboxEntry): void {
    const seq = this.nextOutboxSeq++;
    this.outboxSeqs.set(entry.id, seq);
    this.outboxEntries.push(entry);
    this.outboxChanges.set(entry.id, { seq, entry });
  }

  /** Records a change to an owed entry (attempts, next attempt, last error). */
  saveOutbox(entry: OutboxEntry): void {
    const seq = this.outboxSeqs.get(entry.id);
    if (seq !== undefined && this.outboxEntries.includes(entry)) this.outboxChanges.set(entry.id, { seq, entry });
  }

  /** Removes a delivered (or given-up) entry. */
  dequeue(id: string): OutboxEntry | undefined {
    const index = this.outboxEntries.findIndex((e) => e.id === id);
    const seq = this.outboxSeqs.get(id);
    if (index === -1 || seq === undefined) return undefined;
    this.outboxSeqs.delete(id);
    this.outboxChanges.set(id, { seq });
    return this.outboxEntries.splice(index, 1)[0];
  }

  // ---- health -----------------------------------------------------------------------------------------------

  get health(): StoreHealth {
    return this.healthWatch.current;
  }

  /** Called on every change of health (disk full, writing again). Returns a function that unsubscribes. */
  onHealthChange(listener: (health: StoreHealth) => void): () => void {
    return this.healthWatch.onChange(listener);
  }

  // ---- writing ----------------------------------------------------------------------------------------------

  /** Starts the next write if the lane is free: commits first, an index pass when one is due. */
  private kick(): void {
    if (this.lane) return;
    if (this.waiters.length > 0) {
      const lag = performance.now() - this.unindexedSince;
      const overdue = this.unindexed.size > 0 && this.healthWatch.ok && (lag > INDEX_MAX_LAG_MS || this.unindexed.size > INDEX_MAX_LAG_RECORDS);
      if (overdue) this.startLane(() => this.indexPass());
      // One turn of the event loop first: every report decoded from the same network read joins this write; under
      // a flood (the last write carried several) a millisecond more, so that more reports share one transaction.
      else this.startLane(() => new Promise<void>((r) => (this.lastBatch > 1 ? setTimeout(r, 1) : setImmediate(r))).then(() => this.commitBatch()));
    } else if (this.unindexed.size > 0 && this.healthWatch.ok) {
      this.scheduleIndex();
    }
  }

  private startLane(task: () => Promise<void>): void {
    this.lane = task().finally(() => {
      this.lane = undefined;
      if (!this.closed) this.kick();
    });
  }

  private scheduleIndex(): void {
    if (this.indexTimer || this.closed) return;
    this.indexTimer = setTimeout(() => {
      this.indexTimer = undefined;
      if (this.lane) return; // the lane's end kicks again
      if (this.waiters.length > 0) this.kick();
      else this.startLane(() => this.indexPass());
    }, INDEX_DELAY_MS);
    this.indexTimer.unref();
  }

  /** One group commit of everything saved so far; on failure everything not on disk is undone. */
  private async commitBatch(): Promise<void> {
    const batch = this.waiters;
    this.waiters = [];
    this.lastBatch = batch.length;
    try {
      await this.writeBatch();
    } catch (err) {
      // The changes of later callers may sit on the same objects: everything not on disk is undone together.
      const failed = [...batch, ...this.waiters];
      this.waiters = [];
      this.rollback();
      if (err instanceof StoreWriteError) this.healthWatch.failed(err);
      for (const waiter of failed) waiter.reject(err);
      return;
    }
    this.healthWatch.succeeded();
    for (const waiter of batch) waiter.resolve();
  }

  private async writeBatch(): Promise<void> {
    const meta: Array<[string, unknown]> = [];
    if (this.nextNumber !== this.committedMeta.nextNumber) meta.push(['nextNumber', this.nextNumber]);
    if (this.nextOutboxSeq !== this.committedMeta.outboxSeq) meta.push(['outboxSeq', this.nextOutboxSeq]);
    if (this.dirty.size === 0 && this.outboxChanges.size === 0 && meta.length === 0) return;
    const records = [...this.dirty.values()];
    const added = records.filter((r) => !this.db.hasRecord(r.number)).length;
    if (added > 0) meta.push(['records', this.records + added]);
    const { ops } = commitOps(this.db, { records, outbox: [...this.outboxChanges.values()], meta });
    const written = { nextNumber: this.nextNumber, outboxSeq: this.nextOutboxSeq };
    // Taken now: changes made while the write is in flight belong to the next batch.
    for (const r of records) this.inFlight.set(r.number, r);
    this.dirty.clear();
    this.outboxChanges = new Map();
    await this.db.write(ops);
    this.committedMeta = written;
    this.records += added;
    if (records.length > 0 && this.unindexed.size === 0) this.unindexedSince = performance.now();
    for (const r of records) {
      this.unindexed.add(r.number);
      if (this.inFlight.get(r.number) === r) this.inFlight.delete(r.number);
      if (this.newKeys.get(r.key) === r.number) this.newKeys.delete(r.key);
    }
  }

  /**
   * Brings the index entries of committed records up to date (store-batch.ts), as many as INDEX_BUDGET_MS allows.
   * A record that fails its checksum keeps its mark (--check-store and --repair-store find it) and is not retried.
   */
  private async indexPass(): Promise<void> {
    const numbers = [...this.unindexed].sort((a, b) => a - b).slice(0, INDEX_CHUNK);
    if (numbers.length === 0) return;
    const pass = new IndexPass(this.db);
    const done: number[] = [];
    const started = performance.now();
    for (const number of numbers) {
      if (pass.size > 0 && (pass.opCount >= INDEX_MAX_OPS || (pass.size % 25 === 0 && performance.now() - started > INDEX_BUDGET_MS))) break;
      let stored: StoredIncident | undefined;
      try {
        stored = this.db.record(number);
      } catch (err) {
        if (!(err instanceof StoreDamagedError)) throw err;
        this.unindexed.delete(number);
        continue;
      }
      pass.add(number, stored);
      done.push(number);
    }
    const ops = pass.ops();
    try {
      await this.db.write(ops);
    } catch (err) {
      if (err instanceof StoreWriteError) this.healthWatch.failed(err);
      return; // the marks stay: the next pass (after the probe found space) does it
    }
    this.healthWatch.succeeded();
    for (const number of done) this.unindexed.delete(number);
    this.unindexedSince = performance.now();
  }

  /** The records whose index entries may be stale: queries match them directly. */
  private fresh(): FreshView {
    const numbers = this.unindexed;
    const load = (n: number) => {
      try {
        return this.getByNumber(n);
      } catch (err) {
        if (!(err instanceof StoreDamagedError)) throw err;
        return undefined;
      }
    };
    return {
      numbers,
      *newestFirst() {
        for (const n of [...numbers].sort((a, b) => b - a)) {
          const stored = load(n);
          if (stored) yield stored;
        }
      },
    };
  }

  /**
   * Back to what is on disk: pending incidents are forgotten (the next lookup reads the stored version), and the
   * numbers they were given are given again (nobody was told about them: telling follows the write).
   */
  private rollback(): void {
    this.nextNumber = this.committedMeta.nextNumber;
    this.nextOutboxSeq = this.committedMeta.outboxSeq;
    this.dirty.clear();
    this.inFlight.clear();
    this.newKeys.clear();
    this.outboxChanges = new Map();
    this.loadOutbox();
  }

  private loadOutbox(): void {
    const stored = this.db.outboxEntries();
    this.outboxEntries = stored.map((s) => s.entry);
    this.outboxSeqs = new Map(stored.map((s) => [s.entry.id, s.seq]));
  }

  private *pending(): Generator<StoredIncident> {
    yield* this.dirty.values();
    for (const [n, stored] of this.inFlight) if (!this.dirty.has(n)) yield stored;
  }

  /** The health watch's recovery probe: a write big enough to mean room for real reports, then its removal. */
  private async probe(): Promise<'ok' | 'failed' | 'busy'> {
    if (this.closed) return 'ok';
    if (this.lane) return 'busy';
    try {
      await this.db.write([{ table: 'meta', key: 'space-probe', value: Buffer.alloc(PROBE_BYTES) }]);
      await this.db.write([{ table: 'meta', key: 'space-probe' }]);
      return 'ok';
    } catch {
      return 'failed';
    }
  }
}
