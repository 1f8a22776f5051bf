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
  return /^#?\d+$/.test(token) || RANGE.test(token) || /^[0-9a-f]{8}[0-9a-f-]*$/i.test(token);
}

/** `#8-#12`, `8-12`: a range of incident numbers. */
const RANGE = /^#?(\d+)-#?(\d+)$/;
/** Most incidents one range may name: a typo (`#1-#9999`) must not act on thousands. */
export const MAX_RANGE = 50;

/** References with ranges spelled out (`#8-#12` → `#8` … `#12`); a range too long or backwards is an error. */
export function expandRefs(tokens: readonly string[]): { ok: true; refs: string[] } | { ok: false; message: string } {
  const refs: string[] = [];
  for (const token of tokens) {
    const range = RANGE.exec(token);
    if (!range) {
      refs.push(token);
      continue;
    }
    const [from, to] = [Number(range[1]), Number(range[2])];
    if (to < from) return { ok: false, message: `range ${token} goes backwards` };
    if (to - from + 1 > MAX_RANGE) return { ok: false, message: `range ${token} names ${to - from + 1} incidents; at most ${MAX_RANGE} at once` };
    for (let n = from; n <= to; n++) refs.push(`#${n}`);
  }
  return { ok: true, refs };
}

/** The references at the start of the arguments (the first is always one; later ones only as #N, ranges or UUIDs). */
export function leadingRefCount(args: readonly string[]): number {
  let count = args.length && looksLikeRef(args[0]!) ? 1 : 0;
  while (count > 0 && count < args.length && looksLikeRef(args[count]!) && !/^\d+$/.test(args[count]!)) count++;
  return count;
}

export function resolveRef(store: IncidentStore, token: string): RefLookup {
  const number = /^#?(\d+)$/.exec(token);
  if (number) {
    const stored = store.getByNumber(Number(number[1]));
    if (stored) return { ok: true, stored };
    // Eight digits or more without `#` may be the start of a UUID (`60455324-…`): look it up as one.
    if (token.startsWith('#') || token.length < 8) return { ok: false, message: `no incident #${number[1]}` };
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
    const bad = checkTypedJid(value);
    return bad ?? { kind: 'jid', value };
  }
  // src= takes either
  const ip = parseIp(value);
  if (typeof ip !== 'string') return ip;
  const bad = checkTypedJid(value);
  return bad ? `'${value.slice(0, 80)}' is neither a JID nor an IP address` : { kind: 'jid', value };
}

/** A host name (IDN letters allowed) or an IP literal: what the domain of a JID an admin types must look like. */
const HOSTNAME = /^(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*$/u;

/**
 * checkJid, plus a domain that is a host name or an IP: peers may send odd JIDs and are heard (liberal intake),
 * but what an admin types is sent to every trusted peer, so `src=nothing!!` is a typo to point out, not an address.
 */
export function checkTypedJid(value: string): string | undefined {
  const bad = checkJid(value);
  if (bad) return bad;
  const bare = value.split('/')[0]!;
  const domain = bare.slice(bare.indexOf('@') + 1);
  const ipLiteral = domain.startsWith('[') ? domain.endsWith(']') && typeof parseIp(domain.slice(1, -1)) !== 'string' : false;
  return ipLiteral || HOSTNAME.test(domain) ? undefined : `'${value.slice(0, 80)}' is not a valid JID: its domain is not a host name`;
}
