import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncidentStore } from '../../src/core/store.js';
import { findForInquiry, MAX_EXCHANGES, MAX_TIMELINE, noteInquiry, receiveReport, receiveRequest, receiveResponse, type Arrival } from '../../src/core/workflow.js';
import { emptyIncident, type Incident } from '../../src/protocol/incident.js';
import { approxBytes, keepFirstAndLatest, MAX_TIMELINE_TEXT, MAX_VERSION_BYTES } from '../../src/core/record-bounds.js';
import { encodeRecord } from '../../src/core/store-codec.js';
import { acknowledge, addNote, relate, setSeverity, solve } from '../../src/core/triage.js';
import type { StoredIncident } from '../../src/core/stored-incident.js';

const UUID = 'ba51a035-7710-4558-9bbf-34838a4c5b24';
const REPORTER = 'incidents@peer.example/bot';
const OTHER = 'incidents@other.example/bot';
const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T11:00:00Z';
const T2 = '2024-05-01T12:00:00Z';

let dir: string;
let store: IncidentStore;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'incident-bot-workflow-'));
  store = await IncidentStore.open(path.join(dir, 'incidents.json'));
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function incident(id = UUID, edit: (i: Incident) => void = () => {}): Incident {
  const i = emptyIncident(id);
  i.site = 'peer.example';
  i.severity = 3;
  i.category = 'abuse';
  i.types = ['spam'];
  i.texts = [{ text: 'spam wave', lang: 'en' }];
  edit(i);
  return i;
}

function arrival(inc: Incident, over: Partial<Arrival> = {}): Arrival {
  return { incident: inc, from: REPORTER, format: 'iodef', kind: 'report', trusted: true, at: T0, ...over };
}

describe('receiveReport', () => {
  it('a first report is new, numbered, with a "reported" timeline entry', () => {
    const out = receiveReport(store, arrival(incident()));
    expect(out.change).toBe('new');
    expect(out.stored.number).toBe(1);
    expect(out.stored.key).toBe(UUID);
    expect(out.stored.state).toBe('open');
    expect(out.stored.trusted).toBe(true);
    expect(out.stored.from).toBe(REPORTER);
    expect(out.stored.receivedAt).toBe(T0);
    expect(out.stored.versions).toHaveLength(1);
    expect(out.stored.timeline).toEqual([{ at: T0, who: REPORTER, action: 'reported' }]);
    expect(out.stored.knownBy).toEqual([REPORTER]);
    expect(store.size).toBe(1);
  });

  it('keeps the trust decision of the arrival', () => {
    const out = receiveReport(store, arrival(incident(), { trusted: false }));
    expect(out.stored.trusted).toBe(false);
  });

  it('a first report that is already resolved is stored resolved', () => {
    const out = receiveReport(store, arrival(incident(UUID, (i) => (i.status = 'resolved'))));
    expect(out.change).toBe('new');
    expect(out.stored.state).toBe('resolved');
  });

  it('an identical re-send is unchanged and pushes nothing', () => {
    const first = receiveReport(store, arrival(incident()));
    const again = receiveReport(store, arrival(incident(), { at: T1 }));
    expect(again.change).toBe('unchanged');
    expect(again.stored).toBe(first.stored);
    expect(again.stored.versions).toHaveLength(1);
    expect(again.stored.timeline).toHaveLength(1);
    expect(again.stored.updatedAt).toBe(T0);
    expect(store.size).toBe(1);
  });

  it('status new vs updated alone is not a change', () => {
    receiveReport(store, arrival(incident()));
    const again = receiveReport(store, arrival(incident(UUID, (i) => (i.status = 'updated')), { at: T1 }));
    expect(again.change).toBe('unchanged');
  });

  it('a changed version from the same sender is an update', () => {
    receiveReport(store, arrival(incident()));
    const changed = incident(UUID, (i) => {
      i.status = 'updated';
      i.severity = 1;
    });
    const out = receiveReport(store, arrival(changed, { at: T1 }));
    expect(out.change).toBe('updated');
    expect(out.stored.incident.severity).toBe(1);
    expect(out.stored.versions).toHaveLength(2);
    expect(out.stored.versions[1]?.incident.severity).toBe(1);
    expect(out.stored.updatedAt).toBe(T1);
    expect(out.stored.receivedAt).toBe(T0);
    expect(out.stored.timeline).toHaveLength(2);
    expect(out.stored.timeline[1]).toEqual({ at: T1, who: REPORTER, action: 'updated by peer' });
    expect(out.stored.state).toBe('open');
    expect(out.stored.number).toBe(1);
    expect(store.size).toBe(1);
  });

  it('an update from another resource of the same untrusted reporter is applied', () => {
    receiveReport(store, arrival(incident(), { trusted: false }));
    const out = receiveReport(
      store,
      arrival(incident(UUID, (i) => (i.severity = 1)), { from: 'incidents@peer.example/other', trusted: false, at: T1 }),
    );
    expect(out.change).toBe('updated');
    expect(out.stored.incident.severity).toBe(1);
  });

  it("status 'resolved' resolves the incident", async () => {
    receiveReport(store, arrival(incident()));
    const out = receiveReport(store, arrival(incident(UUID, (i) => (i.status = 'resolved')), { at: T1 }));
    expect(out.change).toBe('updated');
    expect(out.stored.state).toBe('resolved');
    expect(out.stored.incident.status).toBe('resolved');
    expect(out.stored.timeline.at(-1)).toEqual({ at: T1, who: REPORTER, action: 'resolved by peer' });
    // What !list and !stats read from the indexes agrees once committed and indexed.
    await store.flush();
    expect(store.query({ states: ['resolved'] }).incidents.map((s) => s.number)).toEqual([out.stored.number]);
    expect(store.counts().byState).toEqual({ open: 0, acked: 0, resolved: 1 });
  });

  it('the index agrees with a peer resolution once committed, and after a reopen', async () => {
    receiveReport(store, arrival(incident()));
    await store.commit();
    receiveReport(store, arrival(incident(UUID, (i) => (i.status = 'resolved')), { at: T1 }));
    await store.flush();
    expect(store.query({ states: ['resolved'] }).incidents).toHaveLength(1);
    expect(store.query({ states: ['open', 'acked'] }).incidents).toHaveLength(0);
    await store.close();
    store = await IncidentStore.open(path.join(dir, 'incidents.json'));
    expect(store.query({ states: ['resolved'] }).incidents).toHaveLength(1);
    expect(store.counts().byState.resolved).toBe(1);
  });

  it('a changed version from an untrusted other sender is noted, neither kept nor applied', () => {
    const first = receiveReport(store, arrival(incident()));
    const before = structuredClone(first.stored.incident);
    const forged = incident(UUID, (i) => {
      i.status = 'resolved';
      i.severity = 5;
    });
    const out = receiveReport(store, arrival(forged, { from: 'mallory@evil.example/x', trusted: false, at: T1 }));
    expect(out.change).toBe('untrusted-update');
    expect(out.stored).toBe(first.stored);
    expect(out.stored.incident).toEqual(before);
    expect(out.stored.state).toBe('open');
    expect(out.stored.updatedAt).toBe(T0);
    expect(out.stored.versions).toHaveLength(1);
    expect(out.stored.knownBy).toEqual([REPORTER]);
    expect(out.stored.timeline.at(-1)).toEqual({ at: T1, who: 'mallory@evil.example/x', action: 'untrusted update not applied' });
    expect(store.size).toBe(1);
  });

  it('a changed version from a trusted other sender is applied', () => {
    receiveReport(store, arrival(incident()));
    const out = receiveReport(store, arrival(incident(UUID, (i) => (i.severity = 1)), { from: OTHER, trusted: true, at: T1 }));
    expect(out.change).toBe('updated');
    expect(out.stored.incident.severity).toBe(1);
    expect(out.stored.knownBy).toEqual([REPORTER, OTHER]);
  });

  it('the same UUID in upper case from another peer is the same incident', () => {
    const first = receiveReport(store, arrival(incident()));
    const relayed = incident(UUID.toUpperCase(), (i) => (i.site = 'other.example'));
    const out = receiveReport(store, arrival(relayed, { from: OTHER, trusted: true, at: T1 }));
    expect(out.change).not.toBe('new');
    expect(out.stored).toBe(first.stored);
    expect(out.stored.number).toBe(1);
    expect(store.size).toBe(1);
  });

  it('the same non-UUID id from two sites is two incidents', () => {
    const a = receiveReport(store, arrival(incident('INC-1')));
    const b = receiveReport(store, arrival(incident('INC-1', (i) => (i.site = 'other.example')), { from: OTHER }));
    expect(a.change).toBe('new');
    expect(b.change).toBe('new');
    expect(b.stored.number).toBe(2);
    expect(store.size).toBe(2);
  });

  it('an update without a site keeps the known site', () => {
    receiveReport(store, arrival(incident()));
    const noSite = incident(UUID, (i) => {
      delete i.site;
      i.severity = 1;
    });
    const out = receiveReport(store, arrival(noSite, { at: T1 }));
    expect(out.change).toBe('updated');
    expect(out.stored.incident.site).toBe('peer.example');
  });

  // Legacy carries no site: the receiver takes the sender's domain (incoming.ts: decodeLegacy(payload, { site: domainOf(from) })),
  // so the same legacy incident relayed by another peer arrives with a different site and nothing else changed.
  it('an identical legacy report relayed by another trusted peer is unchanged and keeps the issuing site', () => {
    const legacy = (site: string) => incident(UUID, (i) => (i.site = site));
    const first = receiveReport(store, arrival(legacy('peer.example'), { format: 'legacy', kind: 'legacy' }));
    const relayed = receiveReport(store, arrival(legacy('other.example'), { from: OTHER, format: 'legacy', kind: 'legacy', at: T1 }));
    expect(relayed.stored).toBe(first.stored);
    expect(relayed.change).toBe('unchanged');
    expect(relayed.stored.incident.site).toBe('peer.example');
    expect(relayed.stored.timeline).toHaveLength(1);
  });
});

describe('receiveRequest', () => {
  it('on an unknown incident makes a new one with the expected action', () => {
    const inc = incident(UUID, (i) => (i.expectation = { action: 'block-host', texts: [{ text: 'please block' }] }));
    const out = receiveRequest(store, arrival(inc, { kind: 'request' }));
    expect(out.change).toBe('new');
    expect(out.stored.number).toBe(1);
    expect(out.stored.requests).toHaveLength(1);
    expect(out.stored.requests[0]).toEqual({ at: T0, from: REPORTER, action: 'block-host', texts: [{ text: 'please block' }] });
    expect(out.stored.timeline.map((t) => t.action)).toEqual(['received (request)', 'requested assistance']);
    expect(out.stored.timeline[1]?.text).toBe('block-host');
  });

  it('without an expectation records a request with no action', () => {
    const out = receiveRequest(store, arrival(incident(), { kind: 'request' }));
    expect(out.stored.requests[0]).toEqual({ at: T0, from: REPORTER, texts: [] });
    expect(out.stored.requests[0]?.action).toBeUndefined();
  });

  it('on a known incident attaches to it', () => {
    const first = receiveReport(store, arrival(incident()));
    const inc = incident(UUID, (i) => (i.expectation = { action: 'investigate', texts: [] }));
    const out = receiveRequest(store, arrival(inc, { kind: 'request', from: OTHER, at: T1 }));
    expect(out.change).toBe('updated');
    expect(out.stored).toBe(first.stored);
    expect(out.stored.requests[0]?.action).toBe('investigate');
    expect(out.stored.requests[0]?.from).toBe(OTHER);
    expect(out.stored.versions).toHaveLength(2);
    expect(out.stored.knownBy).toContain(OTHER);
    expect(out.stored.updatedAt).toBe(T1);
    expect(store.size).toBe(1);
  });
});

describe('receiveResponse', () => {
  it('attaches to the known incident', () => {
    const first = receiveReport(store, arrival(incident()));
    const inc = incident(UUID, (i) => {
      i.history = [{ action: 'block-host', time: T1, who: 'admin@other.example', texts: [{ text: 'blocked 192.0.2.7' }] }];
    });
    const out = receiveResponse(store, arrival(inc, { kind: 'response', from: OTHER, at: T2 }));
    expect(out.change).toBe('updated');
    expect(out.stored).toBe(first.stored);
    expect(out.stored.responses).toHaveLength(1);
    expect(out.stored.responses[0]?.from).toBe(OTHER);
    expect(out.stored.responses[0]?.history[0]?.action).toBe('block-host');
    expect(out.stored.timeline.at(-1)).toEqual({ at: T2, who: OTHER, action: 'responded', text: 'blocked 192.0.2.7' });
    expect(out.stored.updatedAt).toBe(T2);
    expect(store.size).toBe(1);
  });

  it('on an unknown incident makes a new one', () => {
    const out = receiveResponse(store, arrival(incident('INC-9'), { kind: 'response' }));
    expect(out.change).toBe('new');
    expect(out.stored.responses).toHaveLength(1);
  });
});

describe('findForInquiry', () => {
  it('finds a non-UUID incident by (site, id), site case-insensitively', () => {
    const a = receiveReport(store, arrival(incident('INC-7'))).stored;
    expect(findForInquiry(store, { id: 'INC-7', site: 'peer.example' })).toBe(a);
    expect(findForInquiry(store, { id: 'INC-7', site: 'PEER.example' })).toBe(a);
  });

  it('does not find it under another site or id', () => {
    receiveReport(store, arrival(incident('INC-7')));
    expect(findForInquiry(store, { id: 'INC-7', site: 'other.example' })).toBeUndefined();
    expect(findForInquiry(store, { id: 'INC-8', site: 'peer.example' })).toBeUndefined();
  });

  it('finds a UUID incident whatever the site and case', () => {
    const a = receiveReport(store, arrival(incident())).stored;
    expect(findForInquiry(store, { id: UUID.toUpperCase(), site: 'elsewhere.example' })).toBe(a);
  });
});

describe('mergeRevision (a revision keeps what it leaves out)', () => {
  it('keeps the details when a legacy solution comes with an elided description', async () => {
    const { mergeRevision } = await import('../../src/core/workflow.js');
    const { emptyIncident } = await import('../../src/protocol/incident.js');
    const known = { ...emptyIncident('BA51A035-7710-4558-9BBF-34838A4C5B24'), site: 'peer.example', category: 'muc', severity: 2 as const, texts: [{ lang: 'en', text: 'flood' }], times: { begin: '2009-04-13T19:05:20Z' } };
    const solution = { ...emptyIncident('ba51a035-7710-4558-9bbf-34838a4c5b24', 'resolved'), site: 'relay.example', solutions: [{ texts: [{ lang: 'en', text: 'blocked' }], sources: [] }] };
    const merged = mergeRevision(known, solution);
    expect(merged.category).toBe('muc');
    expect(merged.severity).toBe(2);
    expect(merged.texts).toEqual([{ lang: 'en', text: 'flood' }]);
    expect(merged.times.begin).toBe('2009-04-13T19:05:20Z');
    expect(merged.solutions[0]?.texts[0]?.text).toBe('blocked');
    expect(merged.status).toBe('resolved');
    expect(merged.id).toBe(known.id);
    expect(merged.site).toBe('peer.example');
  });
});

describe('bounds on what a peer can add to one incident', () => {
  it('300 requests and 300 responses keep the first and the latest of each, and a bounded timeline', () => {
    receiveReport(store, arrival(incident()));
    for (let n = 0; n < 300; n++) {
      const at = new Date(Date.parse(T1) + n * 1000).toISOString();
      receiveRequest(store, arrival(incident(UUID, (i) => (i.expectation = { action: `block-${n}`, texts: [] })), { kind: 'request', at }));
      receiveResponse(store, arrival(incident(UUID, (i) => (i.texts = [{ lang: 'en', text: `done ${n}` }])), { kind: 'response', at }));
    }
    const stored = store.getByNumber(1)!;
    expect(stored.requests).toHaveLength(MAX_EXCHANGES);
    expect(stored.responses).toHaveLength(MAX_EXCHANGES);
    expect(stored.requests[0]?.action).toBe('block-0');
    expect(stored.requests.at(-1)?.action).toBe('block-299');
    expect(stored.timeline).toHaveLength(MAX_TIMELINE);
    expect(stored.timeline[0]?.action).toBe('reported');
    expect(stored.timeline.at(-1)?.action).toBe('responded');
  });

  it('repeated inquiries are noted within the same bound', () => {
    const { stored } = receiveReport(store, arrival(incident()));
    for (let n = 0; n < 500; n++) noteInquiry(store, stored, OTHER, T2);
    expect(stored.timeline).toHaveLength(MAX_TIMELINE);
    expect(stored.timeline[0]?.action).toBe('reported');
    expect(stored.timeline.at(-1)).toEqual({ at: T2, who: OTHER, action: 'inquired' });
  });
});

describe('bytes kept per incident (issue 11: untrusted senders amplify writes)', () => {
  const big = (n: number) => `${n} ${'x'.repeat(60_000)}`;

  it('60 big "updates" from an untrusted stranger keep no version and leave the record small', async () => {
    receiveReport(store, arrival(incident()));
    await store.commit();
    for (let n = 0; n < 60; n++) {
      const out = receiveReport(store, arrival(incident(UUID, (i) => (i.texts = [{ lang: 'en', text: big(n) }])), { from: `mallory@evil.example/${n}`, trusted: false, at: T1 }));
      expect(out.change).toBe('untrusted-update');
    }
    await store.commit();
    const stored = store.getByNumber(1)!;
    expect(stored.versions).toHaveLength(1);
    expect(stored.knownBy).toEqual([REPORTER]);
    expect(approxBytes(stored)).toBeLessThan(20_000);
  });

  it("the reporter's own big updates keep the first and the latest versions within the byte budget", async () => {
    receiveReport(store, arrival(incident()));
    for (let n = 0; n < 60; n++) {
      receiveReport(store, arrival(incident(UUID, (i) => (i.texts = [{ lang: 'en', text: big(n) }])), { trusted: false, at: T1 }));
    }
    const stored = store.getByNumber(1)!;
    expect(stored.versions[0]?.incident.texts[0]?.text).toBe('spam wave');
    expect(stored.versions.at(-1)?.incident.texts[0]?.text).toBe(big(59));
    expect(approxBytes(stored.versions.slice(1))).toBeLessThanOrEqual(MAX_VERSION_BYTES);
    expect(stored.versions.length).toBeGreaterThan(2);
    await store.commit();
    expect(approxBytes(store.getByNumber(1))).toBeLessThan(MAX_VERSION_BYTES + 2 * 70_000);
  });

  it('a response with a huge history keeps a bounded timeline text', () => {
    receiveReport(store, arrival(incident()));
    const history = Array.from({ length: 20 }, (_, n) => ({ action: 'block-host', time: T1, texts: [{ lang: 'en', text: big(n) }] }));
    receiveResponse(store, arrival(incident(UUID, (i) => (i.history = history)), { kind: 'response', at: T1 }));
    expect(store.getByNumber(1)!.timeline.at(-1)!.text!.length).toBeLessThanOrEqual(MAX_TIMELINE_TEXT);
  });

  it('keepFirstAndLatest always keeps the first and the latest entry', () => {
    const list = ['a', 'x'.repeat(1000), 'y'.repeat(1000), 'z'.repeat(5000)];
    keepFirstAndLatest(list, 10, 2000);
    expect(list).toEqual(['a', 'z'.repeat(5000)]);
  });
});

describe('the first version is stored once (issue 13)', () => {
  it('a new incident is its own first version until changed; the record carries its text once', async () => {
    const marker = 'a-text-that-appears-once-'.repeat(40);
    const out = receiveReport(store, arrival(incident(UUID, (i) => (i.texts = [{ lang: 'en', text: marker }]))));
    expect(out.stored.versions[0]!.incident).toBe(out.stored.incident);
    const bytes = encodeRecord(out.stored);
    expect(bytes.toString('latin1').split(marker).length - 1).toBe(1);
    await store.commit();
    const read = store.getByNumber(1)!;
    expect(read.versions[0]!.incident).toBe(read.incident);
    expect(read.incident.texts[0]!.text).toBe(marker);
  });

  it('every triage action leaves the first version as received, in memory and on disk', async () => {
    const actions = [
      (s: StoredIncident) => acknowledge(s, 'admin@home.example', T1, 'looking'),
      (s: StoredIncident) => addNote(s, 'admin@home.example', T1, 'note'),
      (s: StoredIncident) => setSeverity(s, 'admin@home.example', T1, 1),
      (s: StoredIncident) => relate(s, 'admin@home.example', T1, { id: 'other-id' }, 'other'),
      (s: StoredIncident) => solve(s, 'admin@home.example', T1, 'blocked', []),
    ];
    for (const [n, act] of actions.entries()) {
      const id = `inc-${n}`;
      const { stored } = receiveReport(store, arrival(incident(id)));
      const received = structuredClone(stored.incident);
      expect(act(stored).ok).toBe(true);
      store.save(stored);
      expect(stored.versions[0]!.incident).toEqual(received);
      expect(stored.incident).not.toEqual(received);
      await store.commit();
      const read = store.getByNumber(stored.number)!;
      expect(read.versions[0]!.incident).toEqual(received);
      expect(read.incident).toEqual(stored.incident);
    }
  });
});
