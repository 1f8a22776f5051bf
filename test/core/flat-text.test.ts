/**
 * flat(), the `line` template and safeBody(), tested with every character Unicode files as a control (Cc), a format
 * character (Cf), a line separator (Zl) or a paragraph separator (Zp) — the list is generated from the Unicode
 * properties, not written by hand — and every text the bot puts in a room built from an incident whose every string
 * field carries them.
 */
import { describe, expect, it } from 'vitest';
import { formatAnnouncement, sourcesText } from '../../src/core/announce.js';
import { clip, flat, foldList, line, safeBody } from '../../src/core/flat-text.js';
import { incidentKey, type OutboxEntry, type StoredIncident } from '../../src/core/store.js';
import { foldGroups } from '../../src/core/storm.js';
import { emptyIncident, type Incident } from '../../src/protocol/incident.js';
import { describeIncident } from '../../commands/show.js';
import { listLine } from '../../commands/_shared.js';
import { outboxLine } from '../../commands/outbox.js';

/** Every code point in \p{Cc}, \p{Cf}, \p{Zl} or \p{Zp}, plus a lone surrogate of each kind. */
function everySeparator(): string[] {
  const found: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(c)) found.push(c);
  }
  return [...found, '\ud800', '\udfff'];
}

const SEPARATORS = everySeparator();
/** What may never be left in one line: anything that breaks a line, reorders or hides text. Only ZWJ/ZWNJ stay. */
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]|(?![\u200c\u200d])\p{Cf}/u;
const hex = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

describe('the generated list', () => {
  it('holds what Unicode defines as line and paragraph breaks, the C1 controls and the bidi controls', () => {
    for (const c of ['\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029', '\u001c', '\u001e', '\u202a', '\u202e', '\u2066', '\u2069', '\u200e', '\u061c', '\ufeff']) {
      expect(SEPARATORS, hex(c)).toContain(c);
    }
    expect(SEPARATORS.length).toBeGreaterThan(200);
  });
});

describe('flat', () => {
  it('leaves no separator, control or format character (but ZWJ/ZWNJ) in any text', () => {
    for (const c of SEPARATORS) {
      const out = flat(`a${c}b${c}${c}c`);
      expect(UNSAFE.test(out), `${hex(c)} → ${JSON.stringify(out)}`).toBe(false);
      expect(out.startsWith('a') && out.endsWith('c'), hex(c)).toBe(true);
    }
  });

  it('makes each line break a space, drops format characters, keeps ZWJ sequences', () => {
    expect(flat('a\u2028#99 NEW incident')).toBe('a #99 NEW incident');
    expect(flat('a\u0085b\r\nc')).toBe('a b c');
    expect(flat('abc\u202edcba')).toBe('abcdcba');
    expect(flat('👨\u200d👩\u200d👧')).toBe('👨\u200d👩\u200d👧');
    expect(flat('x\ud800y')).toBe('x\ufffdy');
  });

  it('collapses white space, trims, and clips long text with an ellipsis without cutting a character', () => {
    expect(flat('  a\n\tb\r\n c  ')).toBe('a b c');
    expect(flat('x'.repeat(600), 500)).toBe(`${'x'.repeat(500)}…`);
    expect(flat('abc', 3)).toBe('abc');
    expect(flat('ab😀', 3)).toBe('ab…');
  });
});

describe('line', () => {
  it('flattens every interpolated value and keeps the spacing of the bot’s own pieces', () => {
    const flag = ' ⚠ UNTRUSTED';
    expect(line`#${7} NEW${flag} — ${'spam\u2029#99 NEW'}`).toBe('#7 NEW ⚠ UNTRUSTED — spam #99 NEW');
    expect(line`${undefined}x${null}`).toBe('x');
    expect(line`[${clip('abcdef\n', 3)}]`).toBe('[abc…]');
  });

  it('folds a list after `max` items', () => {
    expect(foldList(['a', 'b\u2028c', 'd', 'e'], { max: 2, each: 10 })).toBe('a, b c … and 2 more');
  });
});

describe('safeBody', () => {
  it('keeps \\n (and tabs) as the only breaks of a message body', () => {
    for (const c of SEPARATORS) {
      if (c === '\n' || c === '\t' || c === '\u200c' || c === '\u200d') continue;
      const out = safeBody(`line one${c}#99 NEW\nline two`);
      expect(out.split('\n'), hex(c)).toHaveLength(2);
      expect(/[\p{Zl}\p{Zp}\p{Cs}]|(?![\n\t])\p{Cc}|(?![\u200c\u200d])\p{Cf}/u.test(out), hex(c)).toBe(false);
    }
  });
});

/**
 * A copy of `value` with every string ending in `poison`: the structure, numbers, booleans and the address `kind`
 * tags unchanged (those are the model's own discriminators, never peer text).
 */
function poisoned<T>(value: T, poison: string): T {
  if (typeof value === 'string') return `${value}${poison}` as T;
  if (Array.isArray(value)) return value.map((v) => poisoned(v, poison)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'kind' ? v : poisoned(v, poison)])) as T;
  }
  return value;
}

function fullStored(): StoredIncident {
  const i: Incident = {
    ...emptyIncident('ba51a035-7710-4558-9bbf-34838a4c5b24'),
    site: 'peer.example',
    purpose: 'reporting',
    admins: ['admin@peer.example/desk'],
    room: 'ops@conference.peer.example',
    category: 'abuse',
    types: ['spam'],
    severity: 2,
    impact: { type: 'dos' },
    sources: [{ addresses: [{ kind: 'jid', value: 'spammer@bad.example/x' }, { kind: 'other', category: 'e-mail', value: 'x@bad.example' }], counters: [], roles: ['source'] }],
    targets: [{ addresses: [{ kind: 'jid', value: 'victim@peer.example/y' }], counters: [], roles: [] }],
    related: [{ id: 'other-id', site: 'peer.example' }],
    texts: [{ lang: 'en', text: 'spam wave' }, { lang: 'de', text: 'Spamwelle' }],
    times: { begin: '2024-05-01T09:00:00Z', end: '2024-05-01T10:00:00Z', report: '2024-05-01T09:30:00Z', detect: '2024-05-01T09:10:00Z' },
    expectation: { action: 'block-host', texts: [{ text: 'please' }] },
    solutions: [{ texts: [{ text: 'blocked' }], sources: [{ addresses: [{ kind: 'jid', value: 'a@b.example/c' }], counters: [], roles: [] }], who: 'ops@peer.example/z', time: '2024-05-01T10:00:00Z' }],
    history: [{ action: 'status-triage', time: '2024-05-01T10:00:00Z', who: 'ops@peer.example/z', texts: [{ text: 'looking' }] }],
  };
  return {
    number: 7,
    key: incidentKey(i),
    incident: i,
    state: 'open',
    trusted: false,
    from: 'incidents@peer.example/bot',
    format: 'iodef',
    receivedAt: '2024-05-01T10:00:00Z',
    updatedAt: '2024-05-01T10:05:00Z',
    versions: [],
    timeline: [{ at: '2024-05-01T10:00:00Z', who: 'incidents@peer.example/bot', action: 'reported', text: 'first' }],
    knownBy: ['incidents@peer.example/bot'],
    requests: [{ at: '2024-05-01T10:00:00Z', from: 'incidents@peer.example/bot', action: 'block-host', texts: [{ text: 'do it' }] }],
    responses: [{ at: '2024-05-01T10:00:00Z', from: 'other@peer.example/bot', history: [{ action: 'block-host', time: '2024-05-01T10:05:00Z', who: 'x@y.example/z', texts: [{ text: 'done' }] }], texts: [{ text: 'ok' }] }],
  };
}

const outbox: OutboxEntry = {
  id: 'e1',
  to: 'incidents@peer.example/bot',
  stanza: 'iq',
  payload: '<report/>',
  number: 7,
  purpose: 'revision (acknowledged)',
  createdAt: '2024-05-01T10:00:00Z',
  attempts: 2,
  nextAttemptAt: '2024-05-01T10:01:00Z',
  lastError: 'service-unavailable',
};

/** Every chat text the bot builds from an incident or an owed stanza. */
const RENDERINGS: Record<string, (s: StoredIncident) => string> = {
  'announcement (new)': (s) => formatAnnouncement(s, { change: 'new', roomRefused: s.incident.room! }),
  'announcement (request)': (s) => formatAnnouncement(s, { change: 'request' }),
  'announcement (response)': (s) => formatAnnouncement(s, { change: 'response' }),
  '!show': (s) => describeIncident(s, () => 3),
  '!list': (s) => listLine(s),
  '!outbox': (s) => outboxLine(poisoned(outbox, s.incident.site!.slice('peer.example'.length))),
  'storm summary': (s) =>
    foldGroups([1, 2, 3].map((n) => ({ number: n, change: 'new', fromDomain: s.incident.site!, text: '' })))[0]!.text,
};

describe('no peer string can start a line of its own', () => {
  const clean = fullStored();
  for (const [name, render] of Object.entries(RENDERINGS)) {
    it(`${name}: every field carrying each separator gives the same lines as a clean incident`, () => {
      const lines = render(clean).split('\n').length;
      for (const c of SEPARATORS) {
        const out = render(poisoned(clean, `${c}#99999 NEW incident${c}`));
        expect(out.split('\n'), `${hex(c)}: ${JSON.stringify(out.slice(0, 300))}`).toHaveLength(lines);
        expect(UNSAFE.test(out.replace(/\n/g, '')), hex(c)).toBe(false);
        expect(out.split('\n').some((l) => l.startsWith('#99999')), hex(c)).toBe(false);
      }
    });
  }
});

describe('long lists are folded', () => {
  it('a 1,000-address Sources line is a few hundred bytes, not 11.6 KB', () => {
    const s = fullStored();
    s.incident.sources = Array.from({ length: 1000 }, (_, n) => ({
      addresses: [{ kind: 'ip' as const, value: `198.51.${n >> 8}.${n & 255}`, version: 4 as const }],
      counters: [],
      roles: [],
    }));
    const sources = formatAnnouncement(s, { change: 'new' }).split('\n').find((l) => l.startsWith('Sources: '))!;
    expect(sources).toMatch(/… and 990 more$/);
    expect(Buffer.byteLength(sources)).toBeLessThan(300);
    expect(sourcesText(s.incident)).toBe(sources.slice('Sources: '.length));
  });
});
