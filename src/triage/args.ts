/**
 * Argument parsing shared by commands: incident references and key=value options.
 * A reference is `#N`, `N`, a full UUID or a unique UUID prefix of at least 8 characters.
 */
import type { IncidentStore, StoredIncident } from '../core/store.js';
import type { Address } from '../protocol/incident.js';
import { checkJid, parseIp } from '../protocol/validate.js';

export type RefLookup = { ok: true; stored: StoredIncident } | { ok: false; message: string };

/** True when a token has the shape of a reference (so commands can tell refs from free text). */
export function looksLikeRef(token: string): boolean {
  return /^#?\d+$/.test(token) || /^[0-9a-f]{8}[0-9a-f-]*$/i.test(token);
}

export function resolveRef(store: IncidentStore, token: string): RefLookup {
  const number = /^#?(\d+)$/.exec(token);
  if (number) {
    const stored = store.getByNumber(Number(number[1]));
    return stored ? { ok: true, stored } : { ok: false, message: `no incident #${number[1]}` };
  }
  if (!/^[0-9a-f-]{8,}$/i.test(token)) return { ok: false, message: `'${token}' is not a reference (#N, N, a UUID or 8+ characters of one)` };
  const prefix = token.toLowerCase();
  const exact = store.get(prefix);
  if (exact) return { ok: true, stored: exact };
  // The store's id index: a prefix costs the matches, not the store (ten are enough to say it is ambiguous).
  const matches = store.findByIdPrefix(prefix, 10);
  const only = matches.length === 1 ? store.getByNumber(matches[0]!.number) : undefined;
  if (only) return { ok: true, stored: only };
  if (matches.length === 0) return { ok: false, message: `no incident with id ${token}` };
  const more = matches.length === 10 ? ', …' : '';
  return { ok: false, message: `${token} is ambiguous: ${matches.map((m) => `#${m.number}`).join(', ')}${more}` };
}

/** The incident id inside a store key (`uuid`, or `site/id` for ids that are not UUIDs: see incidentKey). */
export function idOfKey(key: string): string {
  const slash = key.indexOf('/');
  return slash === -1 ? key : key.slice(slash + 1);
}

/** Splits `key=value` options (ip=, jid=, src=, loc=) from the other tokens, in order. */
export function splitOptions(tokens: readonly string[], keys: readonly string[]): { options: Array<[string, string]>; words: string[] } {
  const options: Array<[string, string]> = [];
  const words: string[] = [];
  for (const token of tokens) {
    const eq = token.indexOf('=');
    const key = eq > 0 ? token.slice(0, eq).toLowerCase() : '';
    if (keys.includes(key)) options.push([key, token.slice(eq + 1)]);
    else words.push(token);
  }
  return { options, words };
}

/** `ip=ADDR[:PORT]` / `jid=JID` / `src=JID|IP` values as addresses, or a message saying which one is wrong. */
export function addressOf(key: string, value: string): Address | string {
  if (key === 'ip') {
    return parseIp(value);
  }
  if (key === 'jid' || key === 'loc') {
    const bad = checkJid(value);
    return bad ?? { kind: 'jid', value };
  }
  // src= takes either
  const ip = parseIp(value);
  if (typeof ip !== 'string') return ip;
  const bad = checkJid(value);
  return bad ? `'${value}' is neither a JID nor an IP address` : { kind: 'jid', value };
}
