/**
 * The store's queries (issue 13): list by state and other facets with paging, counts, search by IP / JID /
 * domain / word, id prefixes and the open incident about a source JID; indexes follow every change; and each
 * query reads what it returns, not the whole store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitOps } from '../../src/core/store-batch.js';
import { StoreDb } from '../../src/core/store-db.js';
import { IncidentStore, type StoredIncident } from '../../src/core/store.js';
import { queryTerms, termsOf } from '../../src/core/store-index.js';
import { receiveReport } from '../../src/core/workflow.js';
import { emptyIncident, type Incident } from '../../src/protocol/incident.js';

let dir: string;
let store: IncidentStore;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'incident-bot-query-'));
  store = await IncidentStore.open(path.join(dir, 'incidents.json'));
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
function report(edit: (i: Incident) => void = () => {}, from = 'incidents@peer.example/bot', trusted = true): StoredIncident {
  const i = { ...emptyIncident(`INC-${++seq}`), site: 'peer.example', severity: 3 as const, category: 'muc', types: ['spam'] };
  i.texts = [{ lang: 'en', text: 'MUC flood from abuse.lit' }];
  edit(i);
  return receiveReport(store, { incident: i, from, format: 'iodef', kind: 'report', trusted }).stored;
}
const jid = (value: string) => ({ addresses: [{ kind: 'jid' as const, value }], counters: [], roles: [] });
const ip = (value: string, version: 4 | 6 = 4) => ({ addresses: [{ kind: 'ip' as const, value, version }], counters: [], roles: [] });
const numbers = (list: StoredIncident[]) => list.map((s) => s.number);

describe('query (list)', () => {
  it('lists newest first by state, pages with `before`, and says how many there are', async () => {
    for (let n = 0; n < 7; n++) report();
    await store.flush();
    const acked = store.getByNumber(3)!;
    acked.state = 'acked';
    store.save(acked);
    const resolved = store.getByNumber(5)!;
    resolved.state = 'resolved';
    store.save(resolved);
    await store.flush();
    const first = store.query({ states: ['open', 'acked'], limit: 3 });
    expect(numbers(first.incidents)).toEqual([7, 6, 4]);
    expect(first).toMatchObject({ more: true, total: 6 });
    const second = store.query({ states: ['open', 'acked'], limit: 3, before: 4 });
    expect(numbers(second.incidents)).toEqual([3, 2, 1]);
    expect(second.more).toBe(false);
    expect(numbers(store.query({ states: ['acked'] }).incidents)).toEqual([3]);
    expect(numbers(store.query({ states: ['resolved'] }).incidents)).toEqual([5]);
    expect(numbers(store.query({}).incidents)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(store.counts()).toMatchObject({ total: 7, byState: { open: 5, acked: 1, resolved: 1 } });
  });

  it('combines criteria: severity, reporting peer and domain, trust', async () => {
    report((i) => (i.severity = 1));
    report((i) => (i.severity = 1), 'bot@other.example/x', false);
    report((i) => (i.severity = 2), 'bot@other.example/y', false);
    await store.flush();
    expect(numbers(store.query({ severities: [1] }).incidents)).toEqual([2, 1]);
    expect(numbers(store.query({ severities: [1], domains: ['other.example'] }).incidents)).toEqual([2]);
    expect(numbers(store.query({ peers: ['BOT@other.example/z'] }).incidents)).toEqual([3, 2]);
    expect(numbers(store.query({ trusted: true }).incidents)).toEqual([1]);
    expect(numbers(store.query({ states: ['open'], trusted: false, severities: [2] }).incidents)).toEqual([3]);
    expect(store.counts()).toMatchObject({ trusted: 1, untrusted: 2, topDomains: [['other.example', 2], ['peer.example', 1]] });
  });

  it('reads only the incidents it returns (the cost does not grow with the store)', async () => {
    for (let n = 0; n < 300; n++) report();
    await store.flush();
    let loads = 0;
    const db = (store as unknown as { db: StoreDb }).db;
    const real = db.record.bind(db);
    db.record = (n: number) => {
      loads += 1;
      return real(n);
    };
    expect(store.query({ states: ['open'], limit: 10 }).incidents).toHaveLength(10);
    expect(store.search('flood', { limit: 5 }).incidents).toHaveLength(5);
    store.counts();
    expect(loads).toBe(15);
  });
});

describe('before the index pass', () => {
  it('what was just committed is already found, with its current state, by every query', async () => {
    report((i) => (i.sources = [jid('fresh@evil.example')]));
    await store.flush();
    const changed = store.getByNumber(1)!;
    changed.state = 'resolved';
    store.save(changed);
    const added = report((i) => {
      i.id = 'feedface-0000-4000-8000-000000000002';
      i.sources = [ip('192.0.2.99')];
    });
    await store.commit(); // committed, not yet indexed
    expect(numbers(store.query({ states: ['open'] }).incidents)).toEqual([added.number]);
    expect(numbers(store.query({ states: ['resolved'] }).incidents)).toEqual([1]);
    expect(numbers(store.search('192.0.2.99').incidents)).toEqual([added.number]);
    expect(store.findByIdPrefix('feedface').map((m) => m.number)).toEqual([added.number]);
    expect(store.findOpenBySource('fresh@evil.example')).toBeUndefined();
    expect(store.size).toBe(2);
    await store.flush();
    expect(store.counts()).toMatchObject({ total: 2, byState: { open: 1, acked: 0, resolved: 1 } });
  });
});

describe('after a crash between a commit and its index pass', () => {
  it('the marks left in the database are caught up at the next open', async () => {
    report((i) => (i.texts = [{ lang: 'en', text: 'before the crash' }]));
    await store.flush();
    const file = path.join(dir, 'incidents.json');
    await store.close();
    // What a kill -9 right after a commit leaves: the changed record and its mark, no index pass.
    const db = StoreDb.open(path.join(dir, 'incidents.mdb'));
    const changed = db.record(1)!;
    changed.incident.texts = [{ lang: 'en', text: 'after the crash' }];
    changed.state = 'resolved';
    await db.write(commitOps(db, { records: [changed], outbox: [], meta: [] }).ops);
    await db.close();
    store = await IncidentStore.open(file);
    expect(numbers(store.search('after').incidents)).toEqual([1]);
    expect(numbers(store.search('before').incidents)).toEqual([]);
    await store.flush();
    expect(numbers(store.search('after').incidents)).toEqual([1]);
    expect(numbers(store.search('before').incidents)).toEqual([]);
    expect(store.counts().byState).toEqual({ open: 0, acked: 0, resolved: 1 });
  });
});

describe('search', () => {
  it('finds by IP (any IPv6 spelling), JID (any resource or case), domain with subdomains, and words; all terms must match', async () => {
    report((i) => (i.sources = [ip('192.0.2.7')]));
    report((i) => (i.sources = [ip('2001:DB8:0::1', 6)]));
    report((i) => (i.sources = [jid('Spammer@MUC.Abuse.lit/phone')]));
    report((i) => (i.texts = [{ lang: 'en', text: 'Brute-force logins from 198.51.100.4 against admin@home.example' }]));
    await store.flush();
    const hits = (q: string) => numbers(store.search(q).incidents);
    expect(hits('192.0.2.7')).toEqual([1]);
    expect(hits('192.0.2.7:5222')).toEqual([1]);
    expect(hits('2001:db8::1')).toEqual([2]);
    expect(hits('spammer@muc.abuse.lit')).toEqual([3]);
    expect(hits('SPAMMER@muc.abuse.lit/other')).toEqual([3]);
    expect(hits('abuse.lit')).toEqual([3, 2, 1]); // the texts of #1–#3 say "abuse.lit"; #3's source is at a subdomain
    expect(hits('muc.abuse.lit')).toEqual([3]);
    expect(hits('spammer')).toEqual([3]);
    expect(hits('198.51.100.4')).toEqual([4]);
    expect(hits('admin@home.example')).toEqual([4]);
    expect(hits('brute-force')).toEqual([4]);
    expect(hits('logins Brute')).toEqual([4]);
    expect(hits('flood logins')).toEqual([]);
    expect(hits('nothing-like-this')).toEqual([]);
  });

  it('the index follows changes: a changed text is found by its new words only', async () => {
    const s = report((i) => (i.texts = [{ lang: 'en', text: 'first words' }]));
    await store.flush();
    expect(numbers(store.search('first').incidents)).toEqual([1]);
    s.incident.texts = [{ lang: 'en', text: 'second words' }];
    store.save(s);
    await store.flush();
    expect(numbers(store.search('first').incidents)).toEqual([]);
    expect(numbers(store.search('second words').incidents)).toEqual([1]);
  });

  it('pages: at most `limit`, more=true, then the next page with `before`', async () => {
    for (let n = 0; n < 25; n++) report();
    await store.flush();
    const page = store.search('flood', { limit: 20 });
    expect(page.incidents).toHaveLength(20);
    expect(page.more).toBe(true);
    expect(numbers(store.search('flood', { limit: 20, before: 6 }).incidents)).toEqual([5, 4, 3, 2, 1]);
  });

  it('terms: addresses and identities first, at most 300 per incident; queries ignore one-letter tokens', () => {
    const s = { ...report(), incident: { ...emptyIncident('x'), texts: [{ lang: 'en', text: Array.from({ length: 1000 }, (_, n) => `w${n}`).join(' ') }], sources: [ip('192.0.2.1')] } };
    const terms = termsOf(s as StoredIncident);
    expect(terms).toHaveLength(300);
    expect(terms[0]).toBe('i:192.0.2.1');
    expect(queryTerms('a 5 ab')).toEqual(['w:ab']);
  });
});

describe('ids and sources', () => {
  it('finds ids by prefix (committed or not) and numbers of ids', async () => {
    report((i) => (i.id = 'ba51a035-7710-4558-9bbf-34838a4c5b24'));
    report((i) => (i.id = 'ba51a035-0000-4558-9bbf-34838a4c5b24'));
    expect(store.findByIdPrefix('BA51A035').map((m) => m.number).sort()).toEqual([1, 2]);
    await store.flush();
    report((i) => (i.id = 'cafe0000-0000-4558-9bbf-34838a4c5b24'));
    expect(store.findByIdPrefix('ba51a035-7').map((m) => m.number)).toEqual([1]);
    expect(store.findByIdPrefix('cafe').map((m) => m.number)).toEqual([3]);
    expect(store.numberOfId('BA51A035-0000-4558-9BBF-34838A4C5B24')).toBe(2);
  });

  it('findOpenBySource: the newest unresolved incident about a JID that satisfies the predicate, pending ones included', async () => {
    report((i) => (i.sources = [jid('bad@evil.example')]));
    report((i) => (i.sources = [jid('bad@evil.example/x')]));
    await store.flush();
    expect(store.findOpenBySource('BAD@evil.example/r')?.number).toBe(2);
    expect(store.findOpenBySource('bad@evil.example', (s) => s.number === 1)?.number).toBe(1);
    const b = store.getByNumber(2)!;
    b.state = 'resolved';
    store.save(b);
    await store.flush();
    expect(store.findOpenBySource('bad@evil.example')?.number).toBe(1);
    const pending = report((i) => (i.sources = [jid('bad@evil.example')]));
    expect(store.findOpenBySource('bad@evil.example')).toBe(pending);
    expect(store.findOpenBySource('good@evil.example')).toBeUndefined();
  });
});
