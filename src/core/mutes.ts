/**
 * Mutes (`!mute peer.example 2h flood`): while one lasts, matching reports are still stored, acknowledged, counted
 * and searchable, but not announced; when it ends, the room gets one line saying what arrived meanwhile. Kept in a
 * small lowdb file next to the store (`mutes.json`) so they survive restarts. The end is stored as a wall time (a
 * mute says "until 16:30") and compared with steadyWallNow(), which does not step with the system clock.
 */
import { dirname, join } from 'node:path';
import { JSONFilePreset } from 'lowdb/node';
import type { Low } from 'lowdb';
import { bareJid, domainOf } from '../protocol/validate.js';
import { steadyWallNow } from './clock.js';
import type { StoredIncident } from './store.js';

export type MuteKind = 'peer' | 'domain' | 'category';

export interface Mute {
  kind: MuteKind;
  /** A bare JID, a domain or a category, lower-cased. */
  what: string;
  until: string;
  by: string;
  reason?: string;
  /** Incidents held since it began. */
  held: number;
  first?: number;
  last?: number;
}

interface MuteFile {
  mutes: Mute[];
}

export class Mutes {
  private constructor(private readonly db: Low<MuteFile>) {}

  static async open(storagePath: string): Promise<Mutes> {
    return new Mutes(await JSONFilePreset<MuteFile>(join(dirname(storagePath), 'mutes.json'), { mutes: [] }));
  }

  list(): readonly Mute[] {
    return this.db.data.mutes;
  }

  /** What a word names: a JID is a peer, a dotted name a domain, anything else a category. */
  static kindOf(what: string): MuteKind {
    return what.includes('@') ? 'peer' : what.includes('.') ? 'domain' : 'category';
  }

  async add(mute: Omit<Mute, 'held' | 'kind'>): Promise<Mute> {
    const what = mute.what.toLowerCase();
    const kind = Mutes.kindOf(what);
    const entry: Mute = { ...mute, what: kind === 'peer' ? bareJid(what) : what, kind, held: 0 };
    this.db.data.mutes = [...this.db.data.mutes.filter((m) => m.what !== entry.what), entry];
    await this.db.write();
    return entry;
  }

  async remove(what: string): Promise<Mute | undefined> {
    const key = what.toLowerCase();
    const found = this.db.data.mutes.find((m) => m.what === key || m.what === bareJid(key));
    if (!found) return undefined;
    this.db.data.mutes = this.db.data.mutes.filter((m) => m !== found);
    await this.db.write();
    return found;
  }

  /** The mute holding this incident's announcement back (counted), or undefined: announce it. */
  hold(stored: StoredIncident, now = steadyWallNow()): Mute | undefined {
    const mute = this.db.data.mutes.find((m) => Date.parse(m.until) > now && matches(m, stored));
    if (!mute) return undefined;
    mute.held += 1;
    mute.first ??= stored.number;
    mute.last = stored.number;
    // Counting is best effort between writes: the next add/remove/expiry writes it.
    return mute;
  }

  /** Removes the mutes that have ended and returns them (their summary lines are the caller's). */
  async expire(now = steadyWallNow()): Promise<Mute[]> {
    const ended = this.db.data.mutes.filter((m) => Date.parse(m.until) <= now);
    if (ended.length === 0) return [];
    this.db.data.mutes = this.db.data.mutes.filter((m) => !ended.includes(m));
    await this.db.write();
    return ended;
  }
}

function matches(mute: Mute, stored: StoredIncident): boolean {
  if (mute.kind === 'peer') return bareJid(stored.from) === mute.what;
  if (mute.kind === 'domain') {
    const domain = domainOf(stored.from);
    return domain === mute.what || domain.endsWith(`.${mute.what}`);
  }
  return (stored.incident.category ?? '').toLowerCase() === mute.what;
}

/** `mute on peer.example ended: 37 incidents arrived meanwhile, #40–#76` */
export function muteEndedLine(mute: Mute): string {
  if (mute.held === 0) return `mute on ${mute.what} ended: nothing arrived meanwhile`;
  const range = mute.first === mute.last ? `#${mute.first}` : `#${mute.first}–#${mute.last}`;
  return `mute on ${mute.what} ended: ${mute.held} incident${mute.held === 1 ? '' : 's'} arrived meanwhile, ${range} — !list to see them`;
}
