/**
 * Reloading the configuration without a restart (SIGHUP, `reload` by DM): the file is read and validated entirely
 * before anything is applied — an invalid file changes nothing and is answered with the same messages as
 * `--check-config`. What can change live is applied on the running config object (every part reads it there): the
 * trust list, admins, rooms, `untrusted`, limits. What needs a new connection or a new store is named instead.
 */
import { ConfigError, loadConfig, type Config } from '../core/config.js';

/** Sections applied live, and those that need a restart to take effect. */
const LIVE = ['peers', 'admins', 'rooms', 'untrusted', 'limits', 'reminders'] as const;
const RESTART = ['xmpp', 'nick', 'storage', 'http', 'outbox', 'rtbl'] as const;

/** What the running bot does for the changes that are more than a new value in the config object. */
export interface ReloadTarget {
  config: Config;
  setLimits(limits: Config['limits']): void;
  /** Operators rooms added (to join) and removed (to leave); the default room is among them when it changed. */
  operatorsRoomsChanged(before: Config['rooms'], after: Config['rooms']): Promise<void>;
  /** Leaves the report rooms `rooms.allow` no longer allows; returns them. */
  leaveDisallowedReportRooms(): Promise<string[]>;
}

export interface ReloadResult {
  ok: boolean;
  /** Human lines: what changed, what needs a restart, or why nothing was applied. */
  lines: string[];
}

export async function reloadConfig(file: string, target: ReloadTarget): Promise<ReloadResult> {
  let next: Config;
  try {
    next = loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, lines: [`Configuration not reloaded (the running one stays): ${err.message}`] };
    throw err;
  }
  const current = target.config;
  const changed = LIVE.filter((key) => !same(current[key], next[key]));
  const needRestart = RESTART.filter((key) => !same(current[key], next[key]));
  // Fixed on `limits` that are captured at start (stanza size guard, delivery): say so rather than pretend.
  if (current.limits.maxStanzaBytes !== next.limits.maxStanzaBytes) needRestart.push('limits.maxStanzaBytes' as never);
  const before = current.rooms;
  for (const key of changed) (current as Record<string, unknown>)[key] = next[key];
  if (changed.includes('limits')) target.setLimits(current.limits);
  const left: string[] = [];
  if (changed.includes('rooms')) {
    await target.operatorsRoomsChanged(before, current.rooms);
    left.push(...(await target.leaveDisallowedReportRooms()));
  }
  const lines = [
    changed.length ? `Configuration reloaded from ${file}: ${changed.join(', ')} changed and applied.` : `Configuration reloaded from ${file}: nothing that applies live changed.`,
    ...(left.length ? [`Left report rooms no longer allowed: ${left.join(', ')}.`] : []),
    ...(needRestart.length ? [`Changed but needing a restart to take effect: ${needRestart.join(', ')}.`] : []),
  ];
  return { ok: true, lines };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
