/** Durations as admins type them: `30m`, `2h`, `1d`, `90s`, `1h30m`. At most 30 days. */
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
export const MAX_DURATION_MS = 30 * 86_400_000;

export function parseDuration(text: string): number | undefined {
  const parts = /^(?:\d+[smhdw])+$/i.test(text) ? text.toLowerCase().match(/\d+[smhdw]/g)! : undefined;
  if (!parts) return undefined;
  const ms = parts.reduce((sum, p) => sum + Number(p.slice(0, -1)) * UNIT_MS[p.at(-1)!]!, 0);
  return ms > 0 && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** `2h 30m`, `45m`, `1d` — the inverse for display, to the minute. */
export function formatDuration(ms: number): string {
  const min = Math.round(ms / 60_000);
  const d = Math.floor(min / 1440);
  const h = Math.floor((min % 1440) / 60);
  const m = min % 60;
  return [d ? `${d}d` : '', h ? `${h}h` : '', m || (!d && !h) ? `${m}m` : ''].filter(Boolean).join(' ');
}
