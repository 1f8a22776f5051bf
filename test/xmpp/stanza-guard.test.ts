/**
 * The bounded send: what `xmpp.send` lets through is never over the limit once serialised (escaped, UTF-8, with the
 * server's additions reserved). Bodies are clipped with a marker; anything else is refused.
 */
import xml from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { STAMP_RESERVE_BYTES } from '../../src/core/stanza-size.js';
import { boundStanza, fitText, StanzaTooLargeError } from '../../src/xmpp/stanza-guard.js';

const LIMIT = 16384;
const wire = (el: { toString(): string }) => Buffer.byteLength(el.toString()) + STAMP_RESERVE_BYTES;
const groupchat = (body: string) => xml('message', { to: 'ops@conference.example.org', type: 'groupchat' }, xml('body', {}, body));

describe('boundStanza', () => {
  it('lets a small stanza through untouched (the same element)', () => {
    const el = groupchat('#1 NEW incident');
    expect(boundStanza(el, LIMIT)).toBe(el);
    expect(el.getChildText('body')).toBe('#1 NEW incident');
  });

  it('clips a long multi-line body at a line, saying how many lines were left out', () => {
    const lines = Array.from({ length: 2000 }, (_, n) => `#${n} [open] sev 2 muc: presence — spammer${n}@abuse.lit & friends <x>`);
    const el = boundStanza(groupchat(lines.join('\n')), LIMIT);
    expect(wire(el)).toBeLessThanOrEqual(LIMIT);
    const body = el.getChildText('body')!;
    expect(body.startsWith(lines[0]!)).toBe(true);
    expect(body).toMatch(/\n… \d+ more lines not shown \(over the stanza size limit\)$/);
    const kept = body.split('\n').length - 1;
    expect(body).toContain(`${2000 - kept} more lines`);
  });

  it('clips one long line of characters that expand when escaped', () => {
    const el = boundStanza(groupchat('&'.repeat(50_000)), LIMIT);
    expect(wire(el)).toBeLessThanOrEqual(LIMIT);
    expect(el.getChildText('body')).toMatch(/^&+…\[clipped: over the stanza size limit\]$/);
    expect(wire(el)).toBeGreaterThan(LIMIT - 200);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const el = boundStanza(xml('message', { to: 'alice@example.org/x', type: 'chat' }, xml('body', {}, '😀'.repeat(10_000))), LIMIT);
    expect(wire(el)).toBeLessThanOrEqual(LIMIT);
    expect(el.getChildText('body')!.startsWith('😀😀')).toBe(true);
    expect(el.getChildText('body')).not.toContain('\ufffd');
  });

  it('refuses an IQ over the limit with StanzaTooLargeError, saying how big it would be', () => {
    const iq = xml('iq', { type: 'set', to: 'peer@example.org/bot', id: 'a1' }, xml('report', { xmlns: 'urn:xmpp:incident:2' }, '&'.repeat(10_000)));
    expect(() => boundStanza(iq, LIMIT)).toThrow(StanzaTooLargeError);
    expect(() => boundStanza(iq, LIMIT)).toThrow(/the IQ set stanza would be \d+ bytes, over limits\.maxStanzaBytes \(16384\)/);
  });

  it('answers with an IQ error without echoing a request too big to send back', () => {
    const request = xml('report', { xmlns: 'urn:xmpp:incident:2' }, '&'.repeat(10_000));
    const error = xml('error', { type: 'modify' }, xml('bad-request', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }));
    const el = boundStanza(xml('iq', { type: 'error', to: 'peer@example.org/bot', id: 'a1' }, request, error), LIMIT);
    expect(wire(el)).toBeLessThanOrEqual(LIMIT);
    expect(el.getChild('report')).toBeUndefined();
    expect(el.getChild('error')?.getChild('bad-request')).toBeDefined();
  });

  it('keeps \\n the only line break of a body, whatever built it', () => {
    const el = boundStanza(groupchat('one\u2028#99 NEW\u0085two\r\nthree\u202e'), LIMIT);
    expect(el.getChildText('body')).toBe('one #99 NEW two \nthree');
  });
});

describe('fitText', () => {
  it('returns the text itself when it fits', () => {
    expect(fitText('a & b', 100)).toBe('a & b');
  });

  it('never exceeds the room it is given', () => {
    for (const room of [120, 500, 4000]) {
      const out = fitText('x<y>&z\n'.repeat(1000), room);
      const escaped = out.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
      expect(Buffer.byteLength(escaped)).toBeLessThanOrEqual(room);
    }
  });
});
