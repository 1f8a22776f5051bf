/**
 * Where and how a stored report is announced (the last step of stanza → decode → workflow → store → acknowledge →
 * announce), and the room line for a change of the store's health.
 */
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { formatAnnouncement, type AnnounceContext } from '../core/announce.js';
import { isOperatorsRoom } from '../core/rights.js';
import { roomAllowed } from '../core/room-policy.js';
import type { StoreHealth } from '../core/store.js';
import type { ReportOutcome } from '../core/workflow.js';
import type { IodefKind } from '../protocol/incident.js';
import { bareJid, domainOf } from '../protocol/validate.js';
import type { Announcer } from './announcer.js';
import type { ReportRooms } from './report-rooms.js';
import { RoomJoinError } from './muc.js';

/** The room line for a change of the store's health. */
export function storeHealthLine(health: StoreHealth): string {
  if (health.ok) return `Disk OK again: reports are stored and acknowledged again (since ${health.since}).`;
  const what = health.diskFull ? 'Disk full' : `The incident store cannot write (${health.problem})`;
  return `${what}: reports are being refused and not acknowledged since ${health.since}; peers will retry. The bot resumes by itself once it can write.`;
}

const DAY_MS = 86_400_000;
/** Per bot (keyed by its config object): when each refused room was last noted, monotonic ms. */
const notedRooms = new WeakMap<Config, Map<string, number>>();

function firstNoteToday(config: Config, room: string, now = performance.now()): boolean {
  const noted = notedRooms.get(config) ?? new Map<string, number>();
  notedRooms.set(config, noted);
  const key = bareJid(room).toLowerCase();
  const last = noted.get(key);
  if (last !== undefined && now - last < DAY_MS) return false;
  // Bounded: a peer naming a new room in every report must not grow this without end.
  if (noted.size >= 1000) noted.delete(noted.keys().next().value!);
  noted.set(key, now);
  return true;
}

export interface AnnounceDeps {
  config: Config;
  reportRooms: ReportRooms;
  announcer: Announcer;
  log: Logger;
}

/**
 * Picks the room: the one a trusted report names, if allowed (joined as a place to announce only: it gives nobody
 * rights), an operators room it names, or else the default room. An untrusted sender never makes the bot join.
 */
export async function announceOutcome(deps: AnnounceDeps, outcome: ReportOutcome, kind: IodefKind | 'legacy'): Promise<void> {
  const { config, reportRooms, announcer, log } = deps;
  const named = outcome.stored.incident.room;
  let room = config.rooms.default;
  let roomRefused: string | undefined;
  let roomRefusedWhy: AnnounceContext['roomRefusedWhy'];
  if (named && bareJid(named) !== bareJid(config.rooms.default)) {
    if (!outcome.stored.trusted) {
      [roomRefused, roomRefusedWhy] = [named, 'untrusted'];
    } else if (isOperatorsRoom(config, named)) {
      room = bareJid(named);
    } else if (roomAllowed(named, config.rooms.allow, config.rooms.default)) {
      try {
        room = await reportRooms.use(named);
      } catch (err) {
        log.warn({ room: named, err: (err as Error).message }, 'cannot join the room a report names');
        const nickHeld = err instanceof RoomJoinError && err.condition === 'conflict';
        [roomRefused, roomRefusedWhy] = [named, nickHeld ? 'nick-held' : 'cannot-join'];
      }
    } else {
      [roomRefused, roomRefusedWhy] = [named, 'not-allowed'];
    }
  }
  // The note about a refused room is said once per room per day, not on every announcement naming it.
  if (roomRefused && !firstNoteToday(config, roomRefused)) roomRefused = undefined;
  const change = kind === 'request' ? 'request' : kind === 'response' ? 'response' : outcome.change;
  const { stored } = outcome;
  announcer.announce(room, {
    number: stored.number,
    change: change === 'new' ? 'new' : change === 'updated' ? 'updated' : change,
    fromDomain: domainOf(stored.from),
    // Made only if it is sent on its own: in a storm most announcements are folded into a summary line.
    text: () => formatAnnouncement(stored, { change, ...(roomRefused ? { roomRefused, roomRefusedWhy } : {}) }),
  });
}
