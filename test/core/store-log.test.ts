/**
 * The store's on-disk design: an append-only log plus a lowdb checkpoint. Crashes (torn batches, a checkpoint
 * that never got written, a compaction cut short), corruption, migration from the inline format, and the bounded
 * in-memory cache.
 */
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncidentStore, type OutboxEntry, type StoredIncident } from '../../src/core/store.js';
import { readStoreContents } from '../../src/core/store-reader.js';
import { emptyIncident } from '../../src/protocol/incident.js';

let dir: string;
let file: string;
const logFile = (generation = 1) => path.join(dir, `incidents.${generation}.log`);

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'incident-bot-store-log-'));
  file = path.join(dir, 'incidents.json');
});

/** Every store a test opened: closed before its directory goes, so no background checkpoint writes into nothing. */
const opened: IncidentStore[] = [];
async function open(at: string, tuning = {}): Promise<IncidentStore> {
  const store = await IncidentStore.open(at, tuning);
  opened.push(store);
  return store;
}

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function entry(id: string, text = ''): Omit<StoredIncident, 'number' | 'key'> {
  const incident = { ...emptyIncident(id), site: 'peer.example', texts: text ? [{ lang: 'en', text }] : [] };
  const at = '2024-05-01T10:00:00Z';
  return {
    incident,
    state: 'open',
    trusted: true,
    from: 'incidents@peer.example/bot',
    format: 'iodef',
    receivedAt: at,
    updatedAt: at,
    versions: [],
    timeline: [{ at, who: 'incidents@peer.example/bot', action: 'reported' }],
    knownBy: ['incidents@peer.example/bot'],
    requests: [],
    responses: [],
  };
}

function owed(id: string): OutboxEntry {
  const at = '2024-05-01T10:00:00Z';
  return { id, to: 'incidents@peer.example/bot', stanza: 'iq', iqType: 'set', payload: '<report/>', purpose: 'forward', createdAt: at, attempts: 0, nextAttemptAt: at };
}

async function storeWith(ids: string[], tuning = {}): Promise<IncidentStore> {
  const store = await open(file, tuning);
  for (const id of ids) store.add(entry(id));
  await store.commit();
  return store;
}

describe('the log', () => {
  it('a commit costs what changed: the log grows by the changed record, whatever the store holds', async () => {
    const store = await storeWith(Array.from({ length: 300 }, (_, i) => `INC-${i}`));
    const before = statSync(logFile()).size;
    const s = store.getByNumber(7)!;
    s.state = 'acked';
    store.save(s);
    await store.commit();
    const grown = statSync(logFile()).size - before;
    expect(grown).toBeGreaterThan(JSON.stringify(s).length);
    expect(grown).toBeLessThan(JSON.stringify(s).length + 100);
  });

  it('a torn last batch (no commit line) is dropped on open and cut from the file', async () => {
    const store = await storeWith(['INC-1', 'INC-2']);
    await store.close();
    const complete = statSync(logFile()).size;
    appendFileSync(logFile(), '{"r":{"number":3,"key":"peer.example/INC-3","incid');
    const reopened = await open(file);
    expect(reopened.size).toBe(2);
    expect(statSync(logFile()).size).toBe(complete);
    reopened.add(entry('INC-3'));
    await reopened.commit();
    expect((await open(file)).getByNumber(3)?.incident.id).toBe('INC-3');
  });

  it('complete lines of a batch whose commit line is missing are not applied', async () => {
    const store = await storeWith(['INC-1']);
    const s = store.getByNumber(1)!;
    await store.close();
    appendFileSync(logFile(), `{"r":${JSON.stringify({ ...s, state: 'resolved' })}}\n`);
    const reopened = await open(file);
    expect(reopened.getByNumber(1)?.state).toBe('open');
  });

  it('a damaged line before a commit line is corruption: open refuses, naming the store, and changes nothing', async () => {
    const store = await storeWith(['INC-1']);
    store.add(entry('INC-2'));
    await store.commit();
    const text = readFileSync(logFile(), 'utf8');
    const damaged = text.replace('"INC-2"', '"INC-2');
    writeFileSync(logFile(), damaged);
    // The checkpoint covers nothing yet past the first batch: replay has to read the damaged line.
    await expect(IncidentStore.open(file)).rejects.toThrow(/cannot read the incident store .*corrupt at byte/);
    expect(readFileSync(logFile(), 'utf8')).toBe(damaged);
  });

  it('a store whose checkpoint is lost is rebuilt from its log alone', async () => {
    const store = await storeWith(['INC-1', 'INC-2']);
    store.enqueue(owed('o1'));
    await store.commit();
    unlinkSync(file);
    const reopened = await open(file);
    expect(reopened.list().map((s) => s.incident.id)).toEqual(['INC-2', 'INC-1']);
    expect(reopened.outbox.map((e) => e.id)).toEqual(['o1']);
    expect(existsSync(file)).toBe(true);
  });

  it('outbox changes, retries and removals replay in order', async () => {
    const store = await open(file);
    store.enqueue(owed('a'));
    store.enqueue(owed('b'));
    await store.commit();
    const a = store.outbox[0]!;
    a.attempts = 3;
    a.lastError = 'remote-server-timeout';
    store.saveOutbox(a);
    store.dequeue('b');
    await store.commit();
    const reopened = await open(file);
    expect(reopened.outbox).toEqual([{ ...owed('a'), attempts: 3, lastError: 'remote-server-timeout' }]);
  });
});

describe('the checkpoint', () => {
  it('is written once enough log accumulated, and open replays only what came after it', async () => {
    const store = await storeWith([], { checkpointEveryBytes: 2000 });
    for (let i = 0; i < 20; i++) {
      store.add(entry(`INC-${i}`));
      await store.commit();
    }
    const checkpoint = JSON.parse(readFileSync(file, 'utf8')) as { version: number; logOffset: number; index: unknown[] };
    expect(checkpoint.version).toBe(2);
    expect(checkpoint.index.length).toBeGreaterThan(0);
    expect(checkpoint.index.length).toBeLessThan(20);
    expect(checkpoint.logOffset).toBeLessThan(statSync(logFile()).size);
    const reopened = await open(file);
    expect(reopened.size).toBe(20);
    expect(reopened.getByNumber(20)?.incident.id).toBe('INC-19');
  });

  it('lists the state as committed, not a change saved after the last batch', async () => {
    const store = await storeWith(['INC-1']);
    const s = store.getByNumber(1)!;
    s.state = 'acked';
    store.save(s); // not committed
    await store.close().catch(() => undefined);
    // close() flushes: the saved change is committed too, and both the record and the index agree.
    const contents = await readStoreContents(file);
    expect(contents.incidents[0]?.state).toBe('acked');
    expect((await open(file)).summaries()[0]?.state).toBe('acked');
  });
});

describe('compaction', () => {
  it('rewrites the log without superseded records, switches the checkpoint and removes the old file', async () => {
    const store = await storeWith(['INC-1', 'INC-2'], { compactMinGarbageBytes: 4000 });
    const s = store.getByNumber(1)!;
    for (let i = 0; i < 30; i++) {
      s.timeline.push({ at: '2024-05-01T11:00:00Z', who: 'alice@example.org', action: 'note', text: `note ${i}` });
      store.save(s);
      await store.commit();
    }
    await store.close(); // lets housekeeping that follows the last commit finish
    const logs = readdirSync(dir).filter((f) => f.endsWith('.log'));
    expect(logs).toHaveLength(1);
    expect(logs[0]).not.toBe('incidents.1.log');
    const reopened = await open(file);
    expect(reopened.getByNumber(1)?.timeline).toHaveLength(31);
    expect(reopened.getByNumber(2)?.incident.id).toBe('INC-2');
    // At most the floor of garbage plus what was written after the compaction remains besides the live records.
    const live = JSON.stringify(reopened.getByNumber(1)).length + JSON.stringify(reopened.getByNumber(2)).length;
    expect(statSync(path.join(dir, logs[0]!)).size).toBeLessThan(live + Math.max(4000, live) + JSON.stringify(s).length + 100);
  });

  it('a log left behind by a compaction cut short is removed on open', async () => {
    await (await storeWith(['INC-1'])).close();
    writeFileSync(logFile(2), '{"r":{}}\n');
    const reopened = await open(file);
    expect(existsSync(logFile(2))).toBe(false);
    expect(reopened.getByNumber(1)?.incident.id).toBe('INC-1');
  });
});

describe('memory', () => {
  it('keeps only a bounded cache of whole incidents and loads the rest from the log', async () => {
    const store = await storeWith(Array.from({ length: 50 }, (_, i) => `INC-${i}`), { cacheSize: 5 });
    const cache = (store as unknown as { cache: Map<number, unknown> }).cache;
    expect(cache.size).toBeLessThanOrEqual(5);
    expect(store.getByNumber(1)?.incident.id).toBe('INC-0');
    expect(store.list().map((s) => s.number)).toEqual(Array.from({ length: 50 }, (_, i) => 50 - i));
    expect(cache.size).toBeLessThanOrEqual(5);
  });

  it('summaries reflect saved triage state before any record is loaded', async () => {
    await (await storeWith(['INC-1', 'INC-2'])).close();
    const store = await open(file, { cacheSize: 1 });
    expect(store.summaries().map((s) => [s.number, s.state, s.key])).toEqual([
      [2, 'open', 'peer.example/INC-2'],
      [1, 'open', 'peer.example/INC-1'],
    ]);
  });
});

describe('migration from the inline format', () => {
  it('moves every incident and owed stanza into the log, keeping numbers', async () => {
    const incidents = [1, 2, 5].map((number) => ({ ...entry(`INC-${number}`), number, key: `peer.example/INC-${number}` }));
    writeFileSync(file, JSON.stringify({ version: 1, nextNumber: 6, incidents, outbox: [owed('x')] }));
    const store = await open(file);
    expect(store.size).toBe(3);
    expect(store.getByNumber(5)?.incident.id).toBe('INC-5');
    expect(store.add(entry('INC-6')).number).toBe(6);
    await store.close();
    const reopened = await open(file);
    expect(reopened.list().map((s) => s.number)).toEqual([6, 5, 2, 1]);
    expect(reopened.outbox.map((e) => e.id)).toEqual(['x']);
    expect((JSON.parse(readFileSync(file, 'utf8')) as { version: number }).version).toBe(2);
  });
});

describe('a failed write', () => {
  it('rejects the commit, cuts the partial batch and keeps the changes for the next commit', async () => {
    const store = await storeWith(['INC-1']);
    type Write = (buffer: Buffer, offset: number, length: number, position: number) => Promise<unknown>;
    const handle = (store as unknown as { log: { handle: { write: Write } } }).log.handle;
    const real = handle.write.bind(handle);
    // The disk takes half the batch, then fails: the half must not stay in the log.
    handle.write = async (buffer, offset, length, position) => {
      await real(buffer, offset, Math.floor(length / 2), position);
      throw new Error('EIO: simulated');
    };
    const before = statSync(logFile()).size;
    store.add(entry('INC-2'));
    await expect(store.commit()).rejects.toThrow('EIO');
    handle.write = real;
    expect(statSync(logFile()).size).toBe(before);
    const sizeAfterFailure = statSync(logFile()).size;
    await store.commit();
    expect(statSync(logFile()).size).toBeGreaterThan(sizeAfterFailure);
    expect((await readStoreContents(file)).incidents.map((s) => s.incident.id)).toEqual(['INC-1', 'INC-2']);
  });
});

describe('one writer', () => {
  it('refuses a store locked by another live process, naming it', async () => {
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(`${file}.lock`, `${other.pid}\n`);
      await expect(IncidentStore.open(file)).rejects.toThrow(`in use by process ${other.pid}`);
      expect(readFileSync(`${file}.lock`, 'utf8')).toBe(`${other.pid}\n`);
    } finally {
      other.kill();
    }
  });

  it('takes over the lock of a process that is gone (a bot killed with -9), and releases it on close', async () => {
    const gone = spawn('true');
    await new Promise((resolve) => gone.on('exit', resolve));
    writeFileSync(`${file}.lock`, `${gone.pid}\n`);
    const store = await IncidentStore.open(file);
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(`${process.pid}\n`);
    await store.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});

describe('while a batch is being written', () => {
  it('a lookup finds the incident being written (the same object), so a change made meanwhile is not lost', async () => {
    const store = await open(file);
    const added = store.add(entry('INC-1'));
    const first = store.commit(); // in flight, not awaited
    const found = store.get(added.key);
    expect(found).toBe(added);
    found!.state = 'acked';
    store.save(found!);
    await Promise.all([first, store.commit()]);
    expect(store.size).toBe(1);
    const onDisk = await readStoreContents(file);
    expect(onDisk.incidents.map((s) => [s.number, s.state])).toEqual([[1, 'acked']]);
  });
});
