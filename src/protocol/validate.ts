/**
 * Value checks shared by both codecs. Each returns a message saying what is wrong, or undefined when the
 * value is fine, so a decoder can attach the element path where it found the value.
 */
import { isIP } from 'node:net';
import type { Address, Severity } from './incident.js';
import { prepareJid } from './jid-prep.js';

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

/**
 * XEP-0082 DateTime: CCYY-MM-DDThh:mm:ss[.sss]TZD with TZD = Z or ±hh:mm. Every field before the fraction has a
 * fixed position and the zone is at the end, so the fields are read by position (isCalendarTime) rather than
 * captured: capturing cost ten substrings and an array per check.
 */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

export function checkDateTime(value: string): string | undefined {
  if (DATETIME.test(value) && isCalendarTime(value)) return undefined;
  return `'${clip(value)}' is not an XEP-0082 DateTime (CCYY-MM-DDThh:mm:ss[.sss]TZD)`;
}

/** The fields of a value matching DATETIME name a real day and time of day (the regex only checked digits). */
function isCalendarTime(value: string): boolean {
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(digitsAt(value, 0, 4), month)) return false;
  if (digitsAt(value, 11, 2) > 23 || digitsAt(value, 14, 2) > 59 || digitsAt(value, 17, 2) > 60) return false;
  if (value.endsWith('Z')) return true;
  // ±hh:mm
  return digitsAt(value, value.length - 5, 2) <= 23 && digitsAt(value, value.length - 2, 2) <= 59;
}

/** The number written by `count` ASCII digits from `start` (the caller has checked they are digits). */
function digitsAt(value: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) n = n * 10 + (value.charCodeAt(i) - 48);
  return n;
}

/** Days of each month in a common year; February is decided by daysInMonth. */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Days in a month (1–12), as `new Date(Date.UTC(year, month, 0)).getUTCDate()` says without building a Date —
 * including Date.UTC's reading of years 0–99 as 1900–1999 (so year 0000 has no 29 February).
 */
function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1]!;
  const y = year <= 99 ? 1900 + year : year;
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
}

const MAX_JID_PART = 1023;
// Characters RFC 7622 forbids in a localpart, plus controls and spaces anywhere.
const FORBIDDEN_LOCAL = /["&'/:<>@\s\u0000-\u001f\u007f]/u;
const FORBIDDEN_DOMAIN = /[\s\u0000-\u001f\u007f@/"'<>&]/u;
const FORBIDDEN_RESOURCE = /[\u0000-\u001f\u007f]/u;

/** A JID `[local@]domain[/resource]` as RFC 7622 shapes it (no full stringprep: that is the server's job). */
export function checkJid(value: string): string | undefined {
  const problem = jidProblem(value);
  return problem === undefined ? undefined : `'${clip(value)}' is not a valid JID: ${problem}`;
}

function jidProblem(value: string): string | undefined {
  if (value.length === 0) return 'empty';
  const slash = value.indexOf('/');
  const bare = slash === -1 ? value : value.slice(0, slash);
  const resource = slash === -1 ? undefined : value.slice(slash + 1);
  const at = bare.indexOf('@');
  const local = at === -1 ? undefined : bare.slice(0, at);
  const domain = at === -1 ? bare : bare.slice(at + 1);
  if (local !== undefined) {
    if (local.length === 0) return 'empty localpart';
    if (local.length > MAX_JID_PART) return 'localpart too long';
    if (FORBIDDEN_LOCAL.test(local)) return 'forbidden character in localpart';
  }
  if (domain.length === 0) return 'empty domain';
  if (domain.length > MAX_JID_PART) return 'domain too long';
  if (FORBIDDEN_DOMAIN.test(domain)) return 'forbidden character in domain';
  if (domain.startsWith('.') || domain.endsWith('.') || domain.includes('..')) return 'malformed domain';
  if (resource !== undefined) {
    if (resource.length === 0) return 'empty resource';
    if (resource.length > MAX_JID_PART) return 'resource too long';
    if (FORBIDDEN_RESOURCE.test(resource)) return 'control character in resource';
  }
  return undefined;
}

/**
 * The bare JID as the server compares it (see jid-prep.ts): a room written in NFD, with fullwidth letters or in
 * another case is the room the server answers from.
 */
export function bareJid(jid: string): string {
  const slash = jid.indexOf('/');
  return prepareJid(slash === -1 ? jid : jid.slice(0, slash));
}

export function domainOf(jid: string): string {
  const bare = bareJid(jid);
  const at = bare.indexOf('@');
  return at === -1 ? bare : bare.slice(at + 1);
}

const BRACKETED_IP = /^\[([^\]]+)\](?::(\d+))?$/;
const PORT_DIGITS = /^\d{1,5}$/;

/**
 * Parses `1.2.3.4`, `1.2.3.4:53667`, `2001:db8::1`, `[2001:db8::1]:5222` into an IP address.
 * Returns the address or a message saying what is wrong.
 */
export function parseIp(value: string): Extract<Address, { kind: 'ip' }> | string {
  let host = value;
  let portText: string | undefined;
  const bracketed = BRACKETED_IP.exec(value);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (isIP(host) !== 6) return notAnIp(value);
  } else if (isIP(value) === 0) {
    const colon = value.lastIndexOf(':');
    if (colon === -1) return notAnIp(value);
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (isIP(host) !== 4) return notAnIp(value); // an unbracketed v6 with a port is ambiguous
  }
  const version = isIP(host);
  if (version !== 4 && version !== 6) return notAnIp(value);
  if (portText === undefined) return { kind: 'ip', value: host, version };
  if (!PORT_DIGITS.test(portText) || Number(portText) > 65535 || Number(portText) === 0) {
    return `'${clip(value)}' has an invalid port (1–65535)`;
  }
  return { kind: 'ip', value: host, version, port: Number(portText) };
}

function notAnIp(value: string): string {
  return `'${clip(value)}' is not an IPv4 or IPv6 address with an optional port`;
}

const SEVERITY_DIGIT = /^[1-5]$/;

export function checkSeverity(value: string): Severity | string {
  if (!SEVERITY_DIGIT.test(value.trim())) return `severity '${clip(value)}' is not a number from 1 to 5`;
  return Number(value.trim()) as Severity;
}

/** Cuts a hostile value down so an error message stays short. */
export function clip(value: string, max = 64): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
