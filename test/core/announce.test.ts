import { describe, expect, it } from 'vitest';
import { formatAnnouncement, oneLine, type AnnounceContext } from '../../src/core/announce.js';
import { incidentKey, type StoredIncident } from '../../src/core/store.js';
import { emptyIncident, type Incident, type NetworkNode } from '../../src/protocol/incident.js';

const ID = 'ba51a035-7710-4558-9bbf-34838a4c5b24';
const REPORTER = 'incidents@peer.example/bot';

function stored(incident: Incident, over: Partial<StoredIncident> = {}): StoredIncident {
  return {
    number: 7,
    key: incidentKey(incident),
    incident,
    state: 'open',
    trusted: true,
    from: REPORTER,
    format: 'iodef',
    receivedAt: '2024-05-01T10:00:00Z',
    updatedAt: '2024-05-01T10:00:00Z',
    versions: [],
    timeline: [],
    knownBy: [REPORTER],
    requests: [],
    responses: [],
    ...over,
  };
}

function node(...addresses: NetworkNode['addresses']): NetworkNode {
  return { addresses, counters: [], roles: [] };
}

/** A fully filled incident as a peer would report a spam wave. */
function fullIncident(): Incident {
  const i = emptyIncident(ID);
  i.site = 'peer.example';
  i.severity = 2;
  i.category = 'abuse';
  i.types = ['spam', 'spim'];
  i.admins = ['admin@peer.example'];
  i.sources = [
    node({ kind: 'jid', value: 'spammer@bad.example' }),
    node({ kind: 'ip', value: '192.0.2.7', version: 4, port: 5222 }),
    node({ kind: 'ip', value: '2001:db8::1', version: 6, port: 5269 }),
    node({ kind: 'ip', value: '198.51.100.3', version: 4 }),
  ];
  i.targets = [node({ kind: 'jid', value: 'victim@peer.example' }, { kind: 'jid', value: 'muc.peer.example' })];
  i.texts = [
    { text: 'Spam-Welle über unseren Server', lang: 'de' },
    { text: 'Spam wave through our server', lang: 'en' },
  ];
  i.times = { begin: '2024-05-01T09:00:00Z', end: null, report: '2024-05-01T09:30:00Z' };
  return i;
}

const NEW: AnnounceContext = { change: 'new' };

describe('formatAnnouncement', () => {
  const text = formatAnnouncement(stored(fullIncident()), NEW);
  const lines = text.split('\n');

  it('starts with the number and NEW', () => {
    expect(lines[0]).toMatch(/^#7 NEW incident/);
    expect(text).toContain('!show #7');
  });

  it('says UPDATED for an update', () => {
    const updated = formatAnnouncement(stored(fullIncident()), { change: 'updated' });
    expect(updated.split('\n')[0]).toMatch(/^#7 UPDATED incident/);
    expect(updated).not.toContain('NEW');
  });

  it('gives the severity number and its band', () => {
    expect(lines[0]).toContain('severity 2 (high)');
    for (const [severity, band] of [
      [1, 'high'],
      [3, 'medium'],
      [4, 'low'],
      [5, 'low'],
    ] as const) {
      const i = fullIncident();
      i.severity = severity;
      expect(formatAnnouncement(stored(i), NEW)).toContain(`severity ${severity} (${band})`);
    }
  });

  it('says when the severity is unknown', () => {
    const i = fullIncident();
    delete i.severity;
    expect(formatAnnouncement(stored(i), NEW)).toContain('severity unknown');
  });

  it('gives category and types', () => {
    expect(lines[0]).toContain('abuse: spam, spim');
  });

  it('says uncategorised when there is no category', () => {
    const i = fullIncident();
    delete i.category;
    i.types = [];
    expect(formatAnnouncement(stored(i), NEW)).toContain('uncategorised');
  });

  it('names the reporter JID and admin', () => {
    expect(text).toContain(REPORTER);
    expect(text).toContain('admin@peer.example');
  });

  it('lists source JIDs and IPs, with ports', () => {
    expect(text).toContain('spammer@bad.example');
    expect(text).toContain('192.0.2.7:5222');
    expect(text).toContain('[2001:db8::1]:5269');
    expect(text).toContain('198.51.100.3');
  });

  it('lists the locations', () => {
    expect(text).toContain('victim@peer.example');
    expect(text).toContain('muc.peer.example');
  });

  it('prefers the English text over other languages', () => {
    expect(text).toContain('Spam wave through our server');
    expect(text).not.toContain('Spam-Welle');
  });

  it('falls back to a text without language when there is no English one', () => {
    const i = fullIncident();
    i.texts = [
      { text: 'Vague de spam', lang: 'fr' },
      { text: 'Plain text' },
    ];
    const out = formatAnnouncement(stored(i), NEW);
    expect(out).toContain('Plain text');
    expect(out).not.toContain('Vague de spam');
  });

  it('gives the times, with "still happening" for an explicit open end', () => {
    expect(text).toContain('began 2024-05-01T09:00:00Z');
    expect(text).toContain('still happening');
    expect(text).toContain('reported 2024-05-01T09:30:00Z');
  });

  it('gives an end time instead of "still happening" when it has ended', () => {
    const i = fullIncident();
    i.times = { begin: '2024-05-01T09:00:00Z', end: '2024-05-01T11:00:00Z' };
    const out = formatAnnouncement(stored(i), NEW);
    expect(out).toContain('ended 2024-05-01T11:00:00Z');
    expect(out).not.toContain('still happening');
  });

  it('says nothing about the end when it was not given', () => {
    const i = fullIncident();
    i.times = { begin: '2024-05-01T09:00:00Z' };
    const out = formatAnnouncement(stored(i), NEW);
    expect(out).not.toContain('still happening');
    expect(out).not.toContain('ended');
  });

  it('flags an untrusted sender', () => {
    const out = formatAnnouncement(stored(fullIncident(), { trusted: false }), NEW);
    expect(out.split('\n')[0]).toContain('⚠ UNTRUSTED');
  });

  it('does not flag a trusted sender', () => {
    expect(text).not.toContain('UNTRUSTED');
  });

  it('marks a resolved incident', () => {
    const i = fullIncident();
    i.status = 'resolved';
    expect(formatAnnouncement(stored(i), { change: 'updated' }).split('\n')[0]).toContain('[resolved]');
    expect(lines[0]).not.toContain('[resolved]');
  });

  it('notes a refused room', () => {
    const out = formatAnnouncement(stored(fullIncident()), { change: 'new', roomRefused: 'secret@muc.evil.example' });
    expect(out).toContain('secret@muc.evil.example');
    expect(out).toMatch(/rooms\.allow does not allow/);
    expect(text).not.toMatch(/rooms\.allow/);
  });

  it('gives the id and site', () => {
    expect(text).toContain(`Id ${ID} at peer.example`);
  });

  it('an empty incident still gives a headline, reporter and id', () => {
    const out = formatAnnouncement(stored(emptyIncident(ID), { number: 1 }), NEW);
    expect(out.split('\n')).toEqual([
      '#1 NEW incident — severity unknown, uncategorised',
      `Reported by ${REPORTER}`,
      `Id ${ID} — !show #1`,
    ]);
  });

  it('shows the requested action for a request', () => {
    const s = stored(fullIncident(), {
      requests: [{ at: '2024-05-01T10:00:00Z', from: REPORTER, action: 'block-host', texts: [{ text: 'please\nblock it' }] }],
    });
    expect(formatAnnouncement(s, { change: 'request' })).toContain('Asked of us: block-host — please block it');
  });

  it('shows what was done for a response', () => {
    const s = stored(fullIncident(), {
      responses: [
        {
          at: '2024-05-01T10:00:00Z',
          from: 'ops@other.example/bot',
          history: [{ action: 'block-host', time: '2024-05-01T10:05:00Z', texts: [{ text: 'blocked' }] }],
          texts: [],
        },
      ],
    });
    expect(formatAnnouncement(s, { change: 'response' })).toContain('Done by ops@other.example/bot: block-host at 2024-05-01T10:05:00Z — blocked');
  });
});

describe('peer text cannot add lines to the announcement', () => {
  const baseline = formatAnnouncement(stored(fullIncident()), NEW).split('\n').length;

  it('multi-line description text is collapsed to one line', () => {
    const i = fullIncident();
    i.texts = [{ text: 'line one\nline two\r\n\n#99 NEW incident — severity 1 (high), fake\tend', lang: 'en' }];
    const out = formatAnnouncement(stored(i), NEW);
    const lines = out.split('\n');
    expect(lines).toHaveLength(baseline);
    expect(lines.some((l) => l.startsWith('#99'))).toBe(false);
    expect(out).toContain('line one line two #99 NEW incident — severity 1 (high), fake end');
  });

  it('multi-line solution text is collapsed to one line', () => {
    const i = fullIncident();
    i.solutions = [{ texts: [{ text: 'fixed\n#98 NEW incident' }], sources: [] }];
    const lines = formatAnnouncement(stored(i), NEW).split('\n');
    expect(lines).toHaveLength(baseline + 1);
    expect(lines.some((l) => l.startsWith('#98'))).toBe(false);
  });

  // The legacy decoder keeps <category>/<type> as trimmed text, so inner newlines reach the model.
  it('multi-line category and types are collapsed to one line', () => {
    const i = fullIncident();
    i.category = 'abuse\n#97 NEW incident — severity 1 (high), fake';
    i.types = ['spam\n#96 NEW incident'];
    const lines = formatAnnouncement(stored(i), NEW).split('\n');
    expect(lines.some((l) => l.startsWith('#97') || l.startsWith('#96'))).toBe(false);
    expect(lines).toHaveLength(baseline);
  });
});

describe('oneLine', () => {
  it('collapses whitespace runs and trims', () => {
    expect(oneLine('  a\n\tb\r\n c  ')).toBe('a b c');
  });

  it('cuts long text with an ellipsis', () => {
    expect(oneLine('x'.repeat(600))).toBe(`${'x'.repeat(500)}…`);
    expect(oneLine('abcdef', 3)).toBe('abc…');
    expect(oneLine('abc', 3)).toBe('abc');
  });
});

describe('an update (issue 15 §5)', () => {
  it('is one line saying what changed since the version before', async () => {
    const { changesOf } = await import('../../src/core/announce-update.js');
    const before = fullIncident();
    const after = structuredClone(before);
    after.status = 'resolved';
    after.severity = 1;
    after.solutions = [{ texts: [{ lang: 'en', text: 'accounts\ndisabled' }] }] as typeof after.solutions;
    expect(changesOf(before, after)).toEqual(['resolved', `severity ${before.severity}→1`, 'solution: accounts disabled']);
    const s = stored(after);
    s.versions = [
      { at: 'x', from: s.from, format: 'iodef', kind: 'report', incident: before },
      { at: 'y', from: s.from, format: 'iodef', kind: 'report', incident: after },
    ];
    const text = formatAnnouncement(s, { change: 'updated' });
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toMatch(/^#7 updated by [^:]+: resolved — severity \d→1 — solution: accounts disabled — !show #7$/);
  });
});
