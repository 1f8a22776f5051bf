import { describe, it, expect } from 'vitest';
import { checkDateTime, checkJid, parseIp } from '../../src/protocol/validate.js';

describe('checkDateTime (XEP-0082 DateTime)', () => {
  it.each([
    '2009-04-13T19:05:20Z',
    '2024-02-29T00:00:00Z',
    '2000-02-29T23:59:60.123+14:00',
    '1999-12-31T23:59:59-23:59',
    '0004-02-29T00:00:00Z',
    '0096-02-29T00:00:00Z',
  ])('accepts %s', (value) => {
    expect(checkDateTime(value)).toBeUndefined();
  });

  it.each([
    ['2023-02-29T00:00:00Z', 'no 29 February in a common year'],
    ['1900-02-29T00:00:00Z', 'a century that is not a leap year'],
    // Date.UTC reads the years 0–99 as 1900–1999; the check has always followed it (1900 is not a leap year).
    ['0000-02-29T00:00:00Z', 'year 0000 read as 1900'],
    ['0100-02-29T00:00:00Z', 'year 0100'],
    ['2023-04-31T00:00:00Z', 'day after the end of the month'],
    ['2023-13-01T00:00:00Z', 'month 13'],
    ['2023-00-10T00:00:00Z', 'month 0'],
    ['2023-01-00T00:00:00Z', 'day 0'],
    ['2023-01-01T24:00:00Z', 'hour 24'],
    ['2023-01-01T23:60:00Z', 'minute 60'],
    ['2023-01-01T23:59:61Z', 'second 61'],
    ['2023-01-01T00:00:00+24:00', 'zone hour 24'],
    ['2023-01-01T00:00:00-23:60', 'zone minute 60'],
    ['2023-01-01T00:00:00', 'no zone'],
    ['2023-01-01 00:00:00Z', 'no T'],
    ['2023-01-01T00:00:00.Z', 'empty fraction'],
    ['2023-01-01T00:00:00z', 'lower-case z'],
    ['２０２３-01-01T00:00:00Z', 'digits that are not ASCII'],
  ])('rejects %s (%s)', (value) => {
    expect(checkDateTime(value)).toBe(`'${value}' is not an XEP-0082 DateTime (CCYY-MM-DDThh:mm:ss[.sss]TZD)`);
  });
});

describe('checkJid', () => {
  it('accepts bare and full JIDs and domains', () => {
    for (const jid of ['stpeter@jabber.org', 'jabber.org', 'a@b/c d', 'muc.example.org/room@x']) {
      expect(checkJid(jid)).toBeUndefined();
    }
  });

  it.each([
    ['', 'empty'],
    ['@b', 'empty localpart'],
    [`${'x'.repeat(1024)}@b`, 'localpart too long'],
    ['a b@c', 'forbidden character in localpart'],
    ['a@', 'empty domain'],
    ['bad@@', 'forbidden character in domain'],
    ['a@.b', 'malformed domain'],
    ['a@b..c', 'malformed domain'],
    ['a@b/', 'empty resource'],
    ['a@b/\u0001', 'control character in resource'],
  ])('says what is wrong with %j', (jid, why) => {
    const shown = jid.length > 64 ? `${jid.slice(0, 64)}…` : jid;
    expect(checkJid(jid)).toBe(`'${shown}' is not a valid JID: ${why}`);
  });
});

describe('parseIp', () => {
  it('reads addresses with and without ports', () => {
    expect(parseIp('1.2.3.4')).toEqual({ kind: 'ip', value: '1.2.3.4', version: 4 });
    expect(parseIp('1.2.3.4:53667')).toEqual({ kind: 'ip', value: '1.2.3.4', version: 4, port: 53667 });
    expect(parseIp('2001:db8::1')).toEqual({ kind: 'ip', value: '2001:db8::1', version: 6 });
    expect(parseIp('[2001:db8::1]:5222')).toEqual({ kind: 'ip', value: '2001:db8::1', version: 6, port: 5222 });
  });

  it('says what is wrong', () => {
    expect(parseIp('1.2.3')).toBe(`'1.2.3' is not an IPv4 or IPv6 address with an optional port`);
    expect(parseIp('[1.2.3.4]:5')).toBe(`'[1.2.3.4]:5' is not an IPv4 or IPv6 address with an optional port`);
    expect(parseIp('1.2.3.4:0')).toBe(`'1.2.3.4:0' has an invalid port (1–65535)`);
    expect(parseIp('1.2.3.4:65536')).toBe(`'1.2.3.4:65536' has an invalid port (1–65535)`);
  });
});
