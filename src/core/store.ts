/**
 * The incident store: one lowdb JSON file holding every incident, its history and a stable short number.
 *
 * lowdb rewrites the whole file on each write (atomically: temp file + rename, via steno). To keep up with a
 * flood, writes are group-committed: every change awaits `commit()`, and all changes made while a write is in
 * flight go out together in the next one. A caller acknowledges a peer only after its commit resolves, so an
 * acknowledged report is always on disk.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import type { HistoryItem, Incident, IodefKind, LocalizedText } from '../protocol/incident.js';

export type WireFormat = 'legacy' | 'iodef';
export type TriageState = 'open' | 'acked' | 'resolved';

/** One received (or locally made) version of an incident, kept whole. */
export interface IncidentVersion {
  at: string;
  from: string;
  format: WireFormat | 'local';
  kind: IodefKind | 'legacy' | 'local';
  incident: Incident;
}

/** Who did what to an incident, when: the triage timeline. */
export interface TimelineEntry {
  at: string;
  /** A JID: the peer that sent something, or the admin who ran a command. */
  who: string;
  action: string;
  text?: string;
}

/** A request for assistance (IODEF `<request/>`) a peer sent about the incident. */
export interface AssistanceRequest {
  at: string;
  from: string;
  action?: string;
  texts: LocalizedText[];
}

/** A response (IODEF `<response/>`) a peer sent about the incident. */
export interface AssistanceResponse {
  at: string;
  from: string;
  history: HistoryItem[];
  texts: LocalizedText[];
}

export interface StoredIncident {
  /** The short `#N` reference: assigned once, never reused, kept across restarts. */
  number: number;
  /** Identity: the lower-cased UUID when the id is one, else `site/id` (see incidentKey). */
  key: string;
  incident: Incident;
  state: TriageState;
  /** Whether the sender was on the trust list when it arrived (a locally originated incident is trusted). */
  trusted: boolean;
  /** Full JID of the peer it came from, or our own JID when an admin originated it. */
  from: string;
  /** The format the reporter spoke. */
  format: WireFormat;
  receivedAt: string;
  updatedAt: string;
  versions: IncidentVersion[];
  timeline: TimelineEntry[];
  /** JIDs of peers that know this incident: the reporter and everyone it was sent or forwarded to. */
  knownBy: string[];
  requests: AssistanceRequest[];
  responses: AssistanceResponse[];
}

/**
 * A stanza the bot owes a peer (a revision, a forward, an inquiry, an originated report). Kept in the same file
 * as the incidents, so it is written in the same commit as the change that made it owed, and survives restarts.
 */
export interface OutboxEntry {
  id: string;
  to: string;
  /** 'iq' entries are done when the peer's IQ result arrives; 'message' entries once sent on a live stream. */
  stanza: 'iq' | 'message';
  /** The payload element, serialised (the `<report/>`, `<incident/>`, …) — the stanza wrapper is built at send time. */
  payload: string;
  iqType?: 'get' | 'set';
  /** The `#N` it is about, for `!outbox` and the give-up announcement. */
  number?: number;
  /** What it is, for humans: "revision (acknowledged)", "forward", "inquiry", … */
  purpose: string;
  /** Where to say what came of it (the room or the admin who asked); undefined = the default room. */
  notify?: string;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
}

interface StoreData {
  version: 1;
  nextNumber: number;
  incidents: StoredIncident[];
  outbox: OutboxEntry[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The identity of an incident across formats and peers. A UUID is globally unique, so it alone identifies the
 * incident whoever relays it (this is what stops a forwarded report from becoming a second incident); other
 * IODEF ids are only unique within their issuing site.
 */
export function incidentKey(incident: Pick<Incident, 'id' | 'site'>): string {
  return UUID.test(incident.id) ? incident.id.toLowerCase() : `${(incident.site ?? '').toLowerCase()}/${incident.id}`;
}

/** lowdb keeps its default data for a falsy file content (`null`, `0`): refuse anything that is not a store. */
function parseStoreFile(text: string): StoreData {
  const data = JSON.parse(text) as Partial<StoreData> | null;
  if (data === null || typeof data !== 'object' || !Array.isArray(data.incidents) || typeof data.nextNumber !== 'number') {
    throw new Error('not an incident store file');
  }
  return data as StoreData;
}

export class IncidentStore {
  private readonly byKey = new Map<string, StoredIncident>();
  private readonly byNumber = new Map<number, StoredIncident>();
  private pending: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private writing: Promise<void> | undefined;

  private constructor(private readonly db: Low<StoreData>) {
    for (const stored of db.data.incidents) this.index(stored);
  }

  /** Opens (or creates) the store file. A corrupt file is an error, never silently replaced. */
  static async open(path: string): Promise<IncidentStore> {
    await mkdir(dirname(path), { recursive: true });
    const adapter = new DataFile<StoreData>(path, { parse: parseStoreFile, stringify: (d) => JSON.stringify(d) });
    const db = new Low<StoreData>(adapter, { version: 1, nextNumber: 1, incidents: [], outbox: [] });
    try {
      await db.read();
    } catch (err) {
      throw new Error(`cannot read the incident store ${path}: ${(err as Error).message}`);
    }
    if (!db.data || !Array.isArray(db.data.incidents)) {
      throw new Error(`the incident store ${path} is not an incident store file`);
    }
    db.data.outbox ??= [];
    return new IncidentStore(db);
  }

  /** Everything owed to peers, oldest first. */
  get outbox(): OutboxEntry[] {
    return this.db.data.outbox;
  }

  /** Owes a stanza to a peer. Call commit() before counting on it. */
  enqueue(entry: OutboxEntry): void {
    this.db.data.outbox.push(entry);
  }

  /** Removes a delivered (or given-up) entry. */
  dequeue(id: string): OutboxEntry | undefined {
    const index = this.db.data.outbox.findIndex((e) => e.id === id);
    if (index === -1) return undefined;
    return this.db.data.outbox.splice(index, 1)[0];
  }

  get(key: string): StoredIncident | undefined {
    return this.byKey.get(key);
  }

  getByNumber(number: number): StoredIncident | undefined {
    return this.byNumber.get(number);
  }

  /** Every incident, newest (highest number) first. */
  list(): StoredIncident[] {
    return [...this.db.data.incidents].reverse();
  }

  get size(): number {
    return this.db.data.incidents.length;
  }

  /** Adds a new incident, giving it the next `#N`. Call commit() before telling anyone. */
  add(entry: Omit<StoredIncident, 'number' | 'key'>): StoredIncident {
    const stored: StoredIncident = { ...entry, number: this.db.data.nextNumber, key: incidentKey(entry.incident) };
    this.db.data.nextNumber += 1;
    this.db.data.incidents.push(stored);
    this.index(stored);
    return stored;
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
    if (this.pending.length > 0 || this.writing) await this.commit();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.db.write();
          for (const waiter of batch) waiter.resolve();
        } catch (err) {
          for (const waiter of batch) waiter.reject(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private index(stored: StoredIncident): void {
    this.byKey.set(stored.key, stored);
    this.byNumber.set(stored.number, stored);
  }
}
