import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStoreContents } from '../../src/core/store-reader.js';
import { IncidentStore, incidentKey, type OutboxEntry, type StoredIncident } from '../../src/core/store.js';
import { emptyIncident } from '../../src/protocol/incident.js';

const UUID_UPPER = 'BA51A035-7710-4558-9BBF-34838A4C5B24';
const UUID_LOWER = UUID_UPPER.toLowerCase();

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'incident-bot-store-'));
});

/** Every store a test opened, closed before its directory goes. */
const opened: IncidentStore[] = [];
async function open(file: string): Promise<IncidentStore> {
  const store = await IncidentStore.open(file);
  opened.push(store);
  return store;
}

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh store entry for incident `id`, as the workflow would add it. */
function entry(id: string, site = 'peer.example'): Omit<StoredIncident, 'number' | 'key'> {
  const incident = { ...emptyIncident(id), site };
  const at = '2024-05-01T10:00:00Z';
  return {
    incident,
    state: 'open',
    trusted: true,
    from: 'incidents@peer.example/bot',
    format: 'iodef',
    receivedAt: at,
    updatedAt: at,
    versions: [{ at, from: 'incidents@peer.example/bot', format: 'iodef', kind: 'report', incident }],
    timeline: [{ at, who: 'incidents@peer.example/bot', action: 'reported' }],
    knownBy: ['incidents@peer.example/bot'],
    requests: [],
    responses: [],
  };
}

describe('IncidentStore.open', () => {
  it("creates the file's directory", async () => {
    const file = path.join(dir, 'a', 'b', 'incidents.json');
    await open(file);
    expect(existsSync(path.join(dir, 'a', 'b'))).toBe(true);
  });

  it('a new store is empty', async () => {
    const store = await open(path.join(dir, 'incidents.json'));
    expect(store.size).toBe(0);
    expect(store.list()).toEqual([]);
  });

  it('a corrupt file makes open reject with a message naming the file', async () => {
    const file = path.join(dir, 'incidents.json');
    writeFileSync(file, '{"version":1,"nextNumber":3,"incidents":[');
    await expect(IncidentStore.open(file)).rejects.toThrow(file);
    // and it is not replaced
    expect(readFileSync(file, 'utf8')).toBe('{"version":1,"nextNumber":3,"incidents":[');
  });

  it('an empty file makes open reject with a message naming the file', async () => {
    const file = path.join(dir, 'incidents.json');
    writeFileSync(file, '');
    await expect(IncidentStore.open(file)).rejects.toThrow(file);
  });

  it('valid JSON that is not a store makes open reject with a message naming the file', async () => {
    const file = path.join(dir, 'incidents.json');
    writeFileSync(file, '{"something":"else"}');
    await expect(IncidentStore.open(file)).rejects.toThrow(file);
    writeFileSync(file, '[]');
    await expect(IncidentStore.open(file)).rejects.toThrow(file);
  });

  it('a file holding JSON null is rejected, not silently treated as a new store', async () => {
    const file = path.join(dir, 'incidents.json');
    writeFileSync(file, 'null');
    await expect(IncidentStore.open(file)).rejects.toThrow(file);
  });
});

describe('add and commit', () => {
  it('numbers incidents #1, #2, … and indexes them by key and number', async () => {
    const store = await open(path.join(dir, 'incidents.json'));
    const a = store.add(entry(UUID_UPPER));
    const b = store.add(entry('INC-2'));
    const c = store.add(entry('INC-3'));
    expect([a.number, b.number, c.number]).toEqual([1, 2, 3]);
    expect(a.key).toBe(UUID_LOWER);
    expect(b.key).toBe('peer.example/INC-2');
    expect(store.get(UUID_LOWER)).toBe(a);
    expect(store.getByNumber(2)).toBe(b);
    expect(store.getByNumber(4)).toBeUndefined();
    expect(store.size).toBe(3);
    expect(store.list().map((s) => s.number)).toEqual([3, 2, 1]);
  });

  it('commit writes the incidents to the file', async () => {
    const file = path.join(dir, 'incidents.json');
    const store = await open(file);
    store.add(entry(UUID_UPPER));
    await store.commit();
    const data = await readStoreContents(file);
    expect(data.nextNumber).toBe(2);
    expect(data.incidents).toHaveLength(1);
    expect(data.incidents[0]?.key).toBe(UUID_LOWER);
    expect(data.incidents[0]?.incident.id).toBe(UUID_UPPER);
  });

  it('changes saved to a stored incident go out on the next commit', async () => {
    const file = path.join(dir, 'incidents.json');
    const store = await open(file);
    const s = store.add(entry('INC-1'));
    await store.commit();
    s.state = 'acked';
    s.timeline.push({ at: '2024-05-01T11:00:00Z', who: 'alice@example.org', action: 'acked' });
    store.save(s);
    await store.commit();
    const data = (await readStoreContents(file));
    expect(data.incidents[0]?.state).toBe('acked');
    expect(data.incidents[0]?.timeline).toHaveLength(2);
  });

  it('reopening keeps incidents and numbers, and numbering continues', async () => {
    const file = path.join(dir, 'incidents.json');
    const first = await open(file);
    first.add(entry(UUID_UPPER));
    first.add(entry('INC-2'));
    await first.commit();

    const second = await open(file);
    expect(second.size).toBe(2);
    expect(second.getByNumber(1)?.incident.id).toBe(UUID_UPPER);
    expect(second.get(UUID_LOWER)?.number).toBe(1);
    expect(second.get('peer.example/INC-2')?.number).toBe(2);
    const third = second.add(entry('INC-3'));
    expect(third.number).toBe(3);
    await second.commit();

    const again = await open(file);
    expect(again.list().map((s) => s.number)).toEqual([3, 2, 1]);
    expect(again.add(entry('INC-4')).number).toBe(4);
  });

  it('500 add+commit without awaiting in between all resolve and all reach the file', async () => {
    const file = path.join(dir, 'incidents.json');
    const store = await open(file);
    const commits: Promise<void>[] = [];
    for (let n = 0; n < 500; n++) {
      store.add(entry(`INC-${n}`));
      commits.push(store.commit());
    }
    await Promise.all(commits);
    const data = (await readStoreContents(file));
    expect(data.incidents).toHaveLength(500);
    expect(data.nextNumber).toBe(501);
    expect(data.incidents.map((s) => s.number)).toEqual(Array.from({ length: 500 }, (_, k) => k + 1));
    expect(new Set(data.incidents.map((s) => s.key)).size).toBe(500);
  });

  it('commits made while a write is in flight are written by a later write', async () => {
    const file = path.join(dir, 'incidents.json');
    const store = await open(file);
    const commits: Promise<void>[] = [];
    for (let n = 0; n < 200; n++) {
      store.add(entry(`INC-${n}`));
      commits.push(store.commit());
      // let the first writes start (and some finish) while more changes arrive
      if (n % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(commits);
    expect((await readStoreContents(file)).incidents).toHaveLength(200);
    await store.flush();
    expect((await readStoreContents(file)).nextNumber).toBe(201);
  });

  it('a commit after everything settled writes again', async () => {
    const file = path.join(dir, 'incidents.json');
    const store = await open(file);
    store.add(entry('INC-1'));
    await store.commit();
    store.add(entry('INC-2'));
    await store.commit();
    expect((await readStoreContents(file)).incidents).toHaveLength(2);
  });
});

describe('outbox', () => {
  function owed(id: string): OutboxEntry {
    return {
      id,
      to: 'incidents@peer.example/bot',
      stanza: 'iq',
      iqType: 'set',
      payload: '<report/>',
      number: 1,
      purpose: 'forward',
      createdAt: '2024-05-01T10:00:00Z',
      attempts: 0,
      nextAttemptAt: '2024-05-01T10:00:00Z',
    };
  }

  it('an older store file without an outbox opens with an empty one', async () => {
    const file = path.join(dir, 'incidents.json');
    writeFileSync(file, JSON.stringify({ version: 1, nextNumber: 1, incidents: [] }));
    const store = await open(file);
    expect(store.outbox).toEqual([]);
  });

  it('enqueued entries survive a reopen; dequeue removes exactly one', async () => {
    const file = path.join(dir, 'incidents.json');
    const store = await open(file);
    store.enqueue(owed('a'));
    store.enqueue(owed('b'));
    await store.commit();
    const reopened = await open(file);
    expect(reopened.outbox.map((e) => e.id)).toEqual(['a', 'b']);
    expect(reopened.dequeue('a')?.id).toBe('a');
    expect(reopened.dequeue('a')).toBeUndefined();
    expect(reopened.outbox.map((e) => e.id)).toEqual(['b']);
  });
});

describe('incidentKey', () => {
  it('a UUID is lower-cased and independent of the site', () => {
    expect(incidentKey({ id: UUID_UPPER, site: 'peer.example' })).toBe(UUID_LOWER);
    expect(incidentKey({ id: UUID_UPPER, site: 'other.example' })).toBe(UUID_LOWER);
    expect(incidentKey({ id: UUID_LOWER })).toBe(UUID_LOWER);
  });

  it('a non-UUID id is site/id, the site lower-cased, the id kept as is', () => {
    expect(incidentKey({ id: 'INC-42', site: 'Peer.Example' })).toBe('peer.example/INC-42');
    expect(incidentKey({ id: 'INC-42', site: 'other.example' })).toBe('other.example/INC-42');
    expect(incidentKey({ id: 'inc-42', site: 'peer.example' })).not.toBe(incidentKey({ id: 'INC-42', site: 'peer.example' }));
  });

  it('a non-UUID id without a site still gets a key', () => {
    expect(incidentKey({ id: 'INC-42' })).toBe('/INC-42');
  });

  it('an almost-UUID is treated as a plain id', () => {
    const notQuite = `${UUID_UPPER}0`;
    expect(incidentKey({ id: notQuite, site: 'peer.example' })).toBe(`peer.example/${notQuite}`);
  });
});
