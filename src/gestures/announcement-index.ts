/**
 * Which room message announced which incident, so that a reply or a reaction to it can name the incident.
 *
 * Kept in its own small LMDB file beside the incident store (`<store>-announcements.mdb`): it is a disposable
 * index, not incident data — losing it only makes old announcements unaddressable — so it stays out of the store's
 * batches, manifest and migrations. It is bounded: the newest `maxEntries` ids are kept (oldest forgotten first),
 * so its size and its lookup time (one B-tree lookup) do not grow with the number of incidents.
 *
 *   ids    "room\nid" → #N       (room stanza-ids, and our own origin-ids as a fallback for rooms without them)
 *   order  sequence → "room\nid" (oldest first, for forgetting)
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { basename, dirname, extname, join } from 'node:path';
import { bareJid } from '../protocol/validate.js';

export const DEFAULT_MAX_ENTRIES = 100_000;

/** The index file for a store manifest path: `data/incidents.json` → `data/incidents-announcements.mdb`. */
export function announcementIndexPath(storagePath: string): string {
  return join(dirname(storagePath), `${basename(storagePath, extname(storagePath))}-announcements.mdb`);
}

function keyOf(room: string, id: string): string {
  return `${bareJid(room).toLowerCase()}\n${id}`;
}

export class AnnouncementIndex {
  private next: number;
  private first: number;
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly env: RootDatabase,
    private readonly ids: Database<number, string>,
    private readonly order: Database<string, number>,
    private readonly maxEntries: number,
  ) {
    let first: number | undefined;
    let last: number | undefined;
    for (const key of order.getKeys({ limit: 1 })) first = key;
    for (const key of order.getKeys({ reverse: true, limit: 1 })) last = key;
    this.first = first ?? 1;
    this.next = last === undefined ? 1 : last + 1;
  }

  static open(path: string, maxEntries = DEFAULT_MAX_ENTRIES): AnnouncementIndex {
    // eventTurnBatching off: writes are explicit transactions, and a failed commit (a full disk) must reject the
    // caller's promise, not leave an unhandled rejection inside lmdb-js (see store-db.ts).
    const env = open({ path, maxDbs: 4, mapSize: 2 ** 32, eventTurnBatching: false });
    const ids = env.openDB<number, string>({ name: 'ids' });
    const order = env.openDB<string, number>({ name: 'order', keyEncoding: 'uint32' });
    return new AnnouncementIndex(env, ids, order, maxEntries);
  }

  /** The incident a message of that room announced, if we know it. */
  lookup(room: string, id: string): number | undefined {
    return this.ids.get(keyOf(room, id));
  }

  get size(): number {
    return this.next - this.first;
  }

  /** Records that these ids of one room message name incident #number. Written in one transaction. */
  remember(room: string, ids: readonly string[], number: number): Promise<void> {
    const fresh = [...new Set(ids)].filter((id) => this.lookup(room, id) !== number);
    if (fresh.length === 0) return this.writes.then(() => undefined);
    const seqs = fresh.map((id) => [this.next++, keyOf(room, id)] as const);
    const forget: number[] = [];
    while (this.next - this.first > this.maxEntries) forget.push(this.first++);
    const write = this.env.transaction(() => {
      for (const [seq, key] of seqs) {
        void this.ids.put(key, number);
        void this.order.put(seq, key);
      }
      for (const seq of forget) {
        const key = this.order.get(seq);
        if (key !== undefined) {
          // Only if that key was not given again since (then a newer sequence owns it).
          if (!seqs.some(([, k]) => k === key)) void this.ids.remove(key);
          void this.order.remove(seq);
        }
      }
    });
    this.writes = write.catch(() => undefined);
    return write.then(() => undefined);
  }

  async close(): Promise<void> {
    await this.writes;
    await this.env.close();
  }
}
