/**
 * Bounds on what one incident's record keeps of what peers send, so a peer that floods updates, requests or
 * responses about one incident cannot grow it (and every later write of it) without limit. What is kept: the
 * first entry (how it began) and the latest ones, within a count and a byte budget per list. With the incident
 * itself limited by `limits.maxIncidentBytes`, a record stays under about 1 MB whatever peers send.
 */

/** Received versions: the first, then the latest ones within these bounds. */
export const MAX_VERSIONS = 50;
export const MAX_VERSION_BYTES = 256 * 1024;
/** Timeline entries (the first and the latest), and the characters of a peer-supplied timeline text. */
export const MAX_TIMELINE = 200;
export const MAX_TIMELINE_TEXT = 1000;
/** Requests and responses, each list. */
export const MAX_EXCHANGES = 50;
export const MAX_EXCHANGE_BYTES = 256 * 1024;
/** Peers that know the incident (revision recipients come from here). */
export const MAX_KNOWN_BY = 100;

/**
 * Keeps the first entry and the latest ones: at most `maxCount` entries, and the entries after the first at most
 * `maxBytes` (estimated by approxBytes) — except the latest, which always stays.
 */
export function keepFirstAndLatest<T>(list: T[], maxCount: number, maxBytes = Number.POSITIVE_INFINITY): void {
  if (list.length > maxCount) list.splice(1, list.length - maxCount);
  if (maxBytes === Number.POSITIVE_INFINITY || list.length <= 2) return;
  let bytes = 0;
  for (let i = 1; i < list.length; i++) bytes += approxBytes(list[i]);
  let drop = 0;
  while (bytes > maxBytes && 1 + drop < list.length - 1) {
    bytes -= approxBytes(list[1 + drop]);
    drop += 1;
  }
  if (drop > 0) list.splice(1, drop);
}

/** A cheap estimate of a JSON-compatible value's stored size: its strings' lengths plus a little per value. */
export function approxBytes(value: unknown): number {
  if (typeof value === 'string') return value.length + 2;
  if (value === null || typeof value !== 'object') return 8;
  let sum = 2;
  if (Array.isArray(value)) {
    for (const item of value) sum += approxBytes(item) + 1;
  } else {
    for (const key in value) sum += key.length + 3 + approxBytes((value as Record<string, unknown>)[key]);
  }
  return sum;
}

/** A peer-supplied text for the timeline, cut to MAX_TIMELINE_TEXT characters. */
export function timelineText(text: string): string {
  return text.length > MAX_TIMELINE_TEXT ? `${text.slice(0, MAX_TIMELINE_TEXT - 1)}…` : text;
}
