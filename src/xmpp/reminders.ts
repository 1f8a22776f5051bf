/**
 * Reminders of incidents nobody acknowledged (config `reminders`): every `checkEveryMs` (monotonic timer) the newest
 * open incidents are looked at — at most SCANNED, newest first, from the store's state index, so a million stored
 * incidents cost nothing — and those due are re-announced in one line. Due: a trusted incident still `open`,
 * reminded fewer than `times` times, not snoozed, and older than `(reminded + 1) × interval` (severity 1–2: the
 * short interval). The count and the snooze are in the record, so they survive restarts. Ages are measured from
 * the stored receipt times with steadyWallNow(), so a system clock stepped while the bot runs moves no reminder.
 */
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { steadyWallNow } from '../core/clock.js';
import { line } from '../core/flat-text.js';
import type { IncidentStore, StoredIncident } from '../core/store.js';
import { ageOf } from '../triage/list-query.js';
import type { Announcer } from './announcer.js';

const SCANNED = 500;

export class Reminders {
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly deps: { store: IncidentStore; config: Config; announcer: Announcer; log: Logger },
    checkEveryMs = 30_000,
  ) {
    this.timer = setInterval(() => void this.check(), checkEveryMs);
    this.timer.unref();
  }

  /** Announces the reminders due now (one line), and counts them in the records. */
  async check(now = steadyWallNow()): Promise<StoredIncident[]> {
    const { store, config, announcer } = this.deps;
    if (this.running || config.reminders.times === 0) return [];
    this.running = true;
    try {
      const due = store.query({ states: ['open'], limit: SCANNED }).incidents.filter((s) => isDue(s, config.reminders, now));
      if (due.length === 0) return [];
      for (const s of due) {
        s.reminded = (s.reminded ?? 0) + 1;
        store.save(s);
      }
      await store.commit();
      const items = due.slice(0, 10).map((s) => line`#${s.number} (sev ${s.incident.severity ?? '?'}, ${ageOf(s.receivedAt, now).replace(' ago', '')})`);
      const more = due.length > 10 ? ` and ${due.length - 10} more` : '';
      announcer.say(config.rooms.default, `Reminder — not acknowledged yet: ${items.join(', ')}${more}. !ack, !take or !snooze them.`);
      return due;
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'reminders not made');
      return [];
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export function isDue(stored: StoredIncident, reminders: Config['reminders'], now: number): boolean {
  if (stored.state !== 'open' || !stored.trusted) return false;
  const reminded = stored.reminded ?? 0;
  if (reminded >= reminders.times) return false;
  if (stored.snoozedUntil && Date.parse(stored.snoozedUntil) > now) return false;
  const severe = stored.incident.severity !== undefined && stored.incident.severity <= 2;
  const intervalMs = (severe ? reminders.severeMinutes : reminders.otherMinutes) * 60_000;
  // After a snooze the schedule goes on where it was: whatever fell due meanwhile is said once it ends.
  return now - Date.parse(stored.receivedAt) >= intervalMs * (reminded + 1);
}
