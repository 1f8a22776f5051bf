/**
 * Value checks shared by both codecs. Each returns a message saying what is wrong, or undefined when the
 * value is fine, so a decoder can attach the element path where it found the value.
 */
import { isIP } from 'node:net';
import type { Address, Severity } from './incident.js';

/** Where a decode failed and why. `path` is an element path such as `incident/description/time/begin`. */
export interface DecodeError {
  path: string;
  message: string;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

export const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
export const fail = (path: string, message: string): { ok: false; error: DecodeError } => ({
  ok: false,
  error: { path, message },
});

/** Thrown inside a decoder and turned into a Decoded failure at its boundary; never escapes a codec. */
export class DecodeFailure extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkUuid(value: string): string | undefined {
  return UUID.test(value) ? undefined : `'${clip(value)}' is not a UUID (RFC 4122)`;
}

/** XEP-0082 DateTime: CCYY-MM-DDThh:mm:ss[.sss]TZD with TZD = Z or ±hh:mm. */
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;

export function checkDateTime(value: string): string | undefined {
  const m = DATETIME.exec(value);
  const bad = `'${clip(value)}' is not an XEP-0082 DateTime (CCYY-MM-DDThh:mm:ss[.sss]TZD)`;
  if (!m) return bad;
  const [, y, mo, d, h, mi, s, , , tzh, tzm] = m;
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return bad;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return bad;
  if (tzh !== undefined && (Number(tzh) > 23 || Number(tzm) > 59)) return bad;
  return undefined;
}

const MAX_JID_PART = 1023;
// Characters RFC 7622 forbids in a localpart, plus controls and spaces anywhere.
const FORBIDDEN_LOCAL = /["&'/:<>@\s\u0000-\u001f\u007f]/u;
const FORBIDDEN_DOMAIN = /[\s\u0000-\u001f\u007f@/"'<>&]/u;
const FORBIDDEN_RESOURCE = /[\u0000-\u001f\u007f]/u;

/** A JID `[local@]domain[/resource]` as RFC 7622 shapes it (no full stringprep: that is the server's job). */
export function checkJid(value: string): string | undefined {
  const bad = (why: string) => `'${clip(value)}' is not a valid JID: ${why}`;
  if (value.length === 0) return bad('empty');
  const slash = value.indexOf('/');
  const bare = slash === -1 ? value : value.slice(0, slash);
  const resource = slash === -1 ? undefined : value.slice(slash + 1);
  const at = bare.indexOf('@');
  const local = at === -1 ? undefined : bare.slice(0, at);
  const domain = at === -1 ? bare : bare.slice(at + 1);
  if (local !== undefined) {
    if (local.length === 0) return bad('empty localpart');
    if (local.length > MAX_JID_PART) return bad('localpart too long');
    if (FORBIDDEN_LOCAL.test(local)) return bad('forbidden character in localpart');
  }
  if (domain.length === 0) return bad('empty domain');
  if (domain.length > MAX_JID_PART) return bad('domain too long');
  if (FORBIDDEN_DOMAIN.test(domain)) return bad('forbidden character in domain');
  if (domain.startsWith('.') || domain.endsWith('.') || domain.includes('..')) return bad('malformed domain');
  if (resource !== undefined) {
    if (resource.length === 0) return bad('empty resource');
    if (resource.length > MAX_JID_PART) return bad('resource too long');
    if (FORBIDDEN_RESOURCE.test(resource)) return bad('control character in resource');
  }
  return undefined;
}

/** The bare JID of a JID, lower-cased where XMPP compares case-insensitively (local and domain parts). */
export function bareJid(jid: string): string {
  const slash = jid.indexOf('/');
  return (slash === -1 ? jid : jid.slice(0, slash)).toLowerCase();
}

export function domainOf(jid: string): string {
  const bare = bareJid(jid);
  const at = bare.indexOf('@');
  return at === -1 ? bare : bare.slice(at + 1);
}

/**
 * Parses `1.2.3.4`, `1.2.3.4:53667`, `2001:db8::1`, `[2001:db8::1]:5222` into an IP address.
 * Returns the address or a message saying what is wrong.
 */
export function parseIp(value: string): Extract<Address, { kind: 'ip' }> | string {
  const bad = `'${clip(value)}' is not an IPv4 or IPv6 address with an optional port`;
  let host = value;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (isIP(host) !== 6) return bad;
  } else if (isIP(value) === 0) {
    const colon = value.lastIndexOf(':');
    if (colon === -1) return bad;
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (isIP(host) !== 4) return bad; // an unbracketed v6 with a port is ambiguous
  }
  const version = isIP(host);
  if (version !== 4 && version !== 6) return bad;
  if (portText === undefined) return { kind: 'ip', value: host, version };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535 || Number(portText) === 0) {
    return `'${clip(value)}' has an invalid port (1–65535)`;
  }
  return { kind: 'ip', value: host, version, port: Number(portText) };
}

export function checkSeverity(value: string): Severity | string {
  if (!/^[1-5]$/.test(value.trim())) return `severity '${clip(value)}' is not a number from 1 to 5`;
  return Number(value.trim()) as Severity;
}

/** Cuts a hostile value down so an error message stays short. */
export function clip(value: string, max = 64): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
