/**
 * Reminders of incidents nobody acknowledged (issue 15 §3): a trusted incident still `open` is re-announced in the
 * operators room after `urgentAfterMinutes` (severity 1–2) or `otherAfterMinutes`, at most `maxTimes`; when several
 * are due together they are folded into one line. `!snooze` holds them until a given time.
 *
 * What is due is decided from wall times kept with the incident (`reminder`, `receivedAt`): they have to survive
 * restarts, and a monotonic clock does not. The check itself runs on a monotonic timer. A wall clock stepped back
 * only delays reminders; stepped forward it can bring one early, never more than `maxTimes` in all.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import { clip, line } from './flat-text.js';
import type { RemindersConfig } from './reminders-config.js';
import type { IncidentStore } from './store.js';
import type { StoredIncident } from './stored-incident.js';
import { domainOf } from '../protocol/validate.js';

/** At most this many open incidents are looked at per check (newest first): a storm must not make a check slow. */
export const SCAN_LIMIT = 1000;
/** At most this many references named in a folded line. */
const LISTED = 10;

export function intervalMs(stored: StoredIncident, cfg: RemindersConfig): number {
  const severity = stored.incident.severity;
  const minutes = severity !== undefined && severity <= 2 ? cfg.urgentAfterMinutes : cfg.otherAfterMinutes;
  return minutes * 60_000;
}

/** When the next reminder of this incident is due (epoch ms), or undefined when none will be. */
export function nextReminderAt(stored: StoredIncident, cfg: RemindersConfig): number | undefined {
  if (!cfg.enabled || stored.state !== 'open' || !stored.trusted) return undefined;
  const state = stored.reminder ?? { count: 0 };
  if (state.count >= cfg.maxTimes) return undefined;
  const since = Date.parse(state.lastAt ?? stored.receivedAt);
  if (!Number.isFinite(since)) return undefined;
  const snoozed = state.snoozedUntil ? Date.parse(state.snoozedUntil) : Number.NaN;
  const due = since + intervalMs(stored, cfg);
  return Number.isFinite(snoozed) ? Math.max(due, snoozed) : due;
}

export function isDue(stored: StoredIncident, cfg: RemindersConfig, wallNow: number): boolean {
  const at = nextReminderAt(stored, cfg);
  return at !== undefined && at <= wallNow;
}

/** `16 min`, `2 h`, `3 d`: how long an incident has waited. */
export function waited(fromIso: string, wallNow: number): string {
  const min = Math.max(0, Math.round((wallNow - Date.parse(fromIso)) / 60_000));
  if (min < 60) return `${min} min`;
  const h = Math.round(min / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`;
}

const sev = (s: StoredIncident) => (s.incident.severity === undefined ? 'sev ?' : `sev ${s.incident.severity}`);

/**
 * One line for the room. XEP-0393 `*bold*` marks the reference and the state, so the line stays readable as plain
 * text. Peer-supplied parts are flattened and clipped.
 */
export function reminderLine(due: readonly StoredIncident[], wallNow: number): string {
  if (due.length === 1) {
    const s = due[0]!;
    const what = s.incident.category ? line`${clip(s.incident.category, 60)}` : 'incident';
    return line`reminder: *#${String(s.number)}* still *open* (${sev(s)}, ${what} from ${domainOf(s.from)}), unacknowledged for ${waited(
      s.receivedAt,
      wallNow,
    )} — !ack #${String(s.number)} or !snooze #${String(s.number)} 30m`;
  }
  const sorted = [...due].sort((a, b) => (a.incident.severity ?? 9) - (b.incident.severity ?? 9) || a.number - b.number);
  const listed = sorted.slice(0, LISTED).map((s) => `#${s.number} (${sev(s)}, ${waited(s.receivedAt, wallNow)})`);
  const more = sorted.length > LISTED ? `, and ${sorted.length - LISTED} more` : '';
  return `reminder: ${due.length} incidents still *open*, unacknowledged — ${listed.join(', ')}${more} — !ack or !snooze them`;
}

export interface ReminderDeps {
  store: IncidentStore;
  /** The reminders config now (a reload may change it). */
  config(): RemindersConfig;
  /** Posts a line in the operators room. */
  say(text: string): void;
  log: Pick<Logger, 'warn'>;
  clock?: Clock;
}

export class Reminders {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly clock: Clock;

  constructor(private readonly deps: ReminderDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  start(): void {
    // setInterval runs on the monotonic clock: a wall clock step neither stalls nor floods the checks.
    this.timer = setInterval(() => void this.check(), this.deps.config().checkSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Gives the reminders that are due (recorded durably first, then said); returns the numbers reminded of. */
  async check(): Promise<number[]> {
    const cfg = this.deps.config();
    if (this.running || !cfg.enabled) return [];
    this.running = true;
    try {
      const { store } = this.deps;
      const wallNow = this.clock.wall();
      const candidates = store.query({ states: ['open'], trusted: true, limit: SCAN_LIMIT }).incidents;
      const due: StoredIncident[] = [];
      for (const candidate of candidates) {
        if (!isDue(candidate, cfg, wallNow)) continue;
        // Read again and change at once: a command may have acknowledged it since the query, and its copy wins.
        const stored = store.getByNumber(candidate.number);
        if (!stored || !isDue(stored, cfg, wallNow)) continue;
        const state = stored.reminder ?? { count: 0 };
        stored.reminder = { ...state, count: state.count + 1, lastAt: new Date(wallNow).toISOString() };
        store.save(stored);
        due.push(stored);
      }
      if (due.length === 0) return [];
      await store.commit();
      this.deps.say(reminderLine(due, wallNow));
      return due.map((s) => s.number);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'reminders not given');
      return [];
    } finally {
      this.running = false;
    }
  }
}
