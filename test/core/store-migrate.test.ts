/**
 * Migration of the two earlier formats to the database on first open (issue 13): the inline lowdb document (v1)
 * and the log + checkpoint (v2, with a tail after its checkpoint, a torn last batch, a lost checkpoint).
 * Interrupted or failed migrations are redone from the untouched old files.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDatabase } from '../../src/core/store-build.js';
import { IncidentStore, type OutboxEntry, type StoredIncident } from '../../src/core/store.js';
import { keptFolder } from '../../src/core/store-migrate.js';
import { emptyIncident } from '../../src/protocol/incident.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'incident-bot-migrate-'));
  file = path.join(dir, 'incidents.json');
});

const opened: IncidentStore[] = [];
async function open(at = file): Promise<IncidentStore> {
  const store = await IncidentStore.open(at);
  opened.push(store);
  return store;
}

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function record(number: number, state: StoredIncident['state'] = 'open'): StoredIncident {
  const incident = { ...emptyIncident(`INC-${number}`), site: 'peer.example', texts: [{ lang: 'en', text: `flood number ${number}` }] };
  const at = '2024-05-01T10:00:00Z';
  return {
    number,
    key: `peer.example/INC-${number}`,
    incident,
    state,
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

function owed(id: string): OutboxEntry {
  const at = '2024-05-01T10:00:00Z';
  return { id, to: 'incidents@peer.example/bot', stanza: 'iq', iqType: 'set', payload: '<report/>', purpose: 'forward', createdAt: at, attempts: 0, nextAttemptAt: at };
}

/**
 * A v2 store as the previous code wrote it: batches of JSON lines, each ended by a commit line, and a checkpoint
 * indexing the records of the first `checkpointed` batches.
 */
function writeV2(batches: Array<Array<{ r: StoredIncident } | { o: OutboxEntry } | { d: string }>>, checkpointed: number, tail = ''): void {
  let log = '';
  let nextNumber = 1;
  const index: unknown[] = [];
  const outbox = new Map<string, OutboxEntry>();
  let logOffset = 0;
  batches.forEach((batch, b) => {
    for (const line of batch) {
      if ('r' in line) {
        const json = JSON.stringify(line.r);
        const offset = Buffer.byteLength(log) + '{"r":'.length;
        if (b < checkpointed) index.push([line.r.number, line.r.key, line.r.state, 1, line.r.from, offset, Buffer.byteLength(json)]);
        log += `{"r":${json}}\n`;
        nextNumber = Math.max(nextNumber, line.r.number + 1);
      } else {
        log += `${JSON.stringify(line)}\n`;
        if (b < checkpointed) {
          if ('o' in line) outbox.set(line.o.id, line.o);
          else outbox.delete(line.d);
        }
      }
    }
    log += `{"c":${nextNumber}}\n`;
    if (b < checkpointed) logOffset = Buffer.byteLength(log);
  });
  writeFileSync(path.join(dir, 'incidents.1.log'), log + tail);
  if (checkpointed > 0) {
    const cpNext = batches.slice(0, checkpointed).flat().reduce((n, l) => ('r' in l ? Math.max(n, l.r.number + 1) : n), 1);
    writeFileSync(file, JSON.stringify({ version: 2, log: 'incidents.1.log', logOffset, nextNumber: cpNext, outbox: [...outbox.values()], index }));
  }
}

describe('migration from the log + checkpoint format (v2)', () => {
  it('moves every incident (checkpointed and after) and the outbox, keeps numbers, and keeps the old files aside', async () => {
    const later = { ...record(2), state: 'acked' as const };
    writeV2([[{ r: record(1) }, { r: record(2) }, { o: owed('a') }], [{ r: later }, { r: record(5) }, { o: owed('b') }, { d: 'a' }]], 1);
    const store = await open();
    expect(store.list().map((s) => [s.number, s.state])).toEqual([
      [5, 'open'],
      [2, 'acked'],
      [1, 'open'],
    ]);
    expect(store.outbox.map((e) => e.id)).toEqual(['b']);
    expect(store.add(record(0)).number).toBe(6);
    expect(store.counts().byState).toEqual({ open: 2, acked: 1, resolved: 0 });
    expect(store.search('inc-5 flood').incidents.map((s) => s.number)).toEqual([5]);
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { version: number; database: string; migratedFrom: { version: number; incidents: number } };
    expect(manifest).toMatchObject({ version: 3, database: 'incidents.mdb', migratedFrom: { version: 2, incidents: 3 } });
    expect(readdirSync(keptFolder(file)).sort()).toEqual(['incidents.1.log', 'incidents.json']);
    expect(existsSync(path.join(dir, 'incidents.1.log'))).toBe(false);
  });

  it('drops a torn last batch (it was never acknowledged) and migrates a log whose checkpoint was never written', async () => {
    writeV2([[{ r: record(1) }], [{ r: record(2) }]], 0, `{"r":${JSON.stringify(record(3))}}\n{"r":{"numb`);
    const store = await open();
    expect(store.list().map((s) => s.number)).toEqual([2, 1]);
    expect(store.add(record(0)).number).toBe(3);
  });

  it('a damaged line before a commit line refuses the migration, naming the log, and leaves the old files as they were', async () => {
    writeV2([[{ r: record(1) }], [{ r: record(2) }]], 1);
    const log = path.join(dir, 'incidents.1.log');
    const text = readFileSync(log, 'utf8');
    const damaged = text.replace('"flood number 2"', '"flood number 2\u0000');
    writeFileSync(log, damaged.replace(/\u0000/, ''));
    const before = readFileSync(file, 'utf8');
    await expect(IncidentStore.open(file)).rejects.toThrow(/incidents\.1\.log is damaged at byte \d+/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readFileSync(log, 'utf8')).toBe(damaged.replace(/\u0000/, ''));
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('an interrupted migration (a database without its ready mark) is redone from the old files', async () => {
    writeV2([[{ r: record(1) }, { r: record(2) }]], 1);
    // What a crash in the middle of step 1 leaves: a partial database next to the untouched v2 files.
    await buildDatabase(path.join(dir, 'incidents.mdb'), { records: () => [record(1)], outbox: [], nextNumber: 2 });
    const { StoreDb } = await import('../../src/core/store-db.js');
    const partial = StoreDb.open(path.join(dir, 'incidents.mdb'));
    await partial.write([{ table: 'meta', key: 'ready' }]);
    await partial.close();
    const store = await open();
    expect(store.list().map((s) => s.number)).toEqual([2, 1]);
  });

  it('a database built from a different store (a stale one) is not taken for the migration of this one', async () => {
    await buildDatabase(path.join(dir, 'incidents.mdb'), { records: () => [record(7)], outbox: [], nextNumber: 8 }, { meta: [['source', { version: 2, nextNumber: 8, incidents: 1, outbox: 0 }]] });
    writeV2([[{ r: record(1) }, { r: record(2) }]], 1);
    const store = await open();
    expect(store.list().map((s) => s.number)).toEqual([2, 1]);
  });
});

describe('migration from the inline format (v1)', () => {
  it('moves every incident and owed stanza into the database, keeping numbers', async () => {
    writeFileSync(file, JSON.stringify({ version: 1, nextNumber: 6, incidents: [record(1), record(2), record(5, 'resolved')], outbox: [owed('x')] }));
    const store = await open();
    expect(store.size).toBe(3);
    expect(store.getByNumber(5)?.incident.id).toBe('INC-5');
    expect(store.add(record(0)).number).toBe(6);
    await store.commit();
    await store.close();
    const reopened = await open();
    expect(reopened.list().map((s) => s.number)).toEqual([6, 5, 2, 1]);
    expect(reopened.outbox.map((e) => e.id)).toEqual(['x']);
    expect(reopened.query({ states: ['resolved'] }).incidents.map((s) => s.number)).toEqual([5]);
    expect((JSON.parse(readFileSync(file, 'utf8')) as { version: number }).version).toBe(3);
    expect(JSON.parse(readFileSync(path.join(keptFolder(file), 'incidents.json'), 'utf8')).version).toBe(1);
  });

  it('an older store file without an outbox opens with an empty one', async () => {
    writeFileSync(file, JSON.stringify({ version: 1, nextNumber: 1, incidents: [] }));
    const store = await open();
    expect(store.outbox).toEqual([]);
  });
});

describe('the manifest', () => {
  it('a manifest whose database is missing refuses to start (it never starts over empty)', async () => {
    await (await open()).close();
    opened.length = 0;
    rmSync(path.join(dir, 'incidents.mdb'));
    await expect(IncidentStore.open(file)).rejects.toThrow(/incidents\.mdb is missing/);
  });

  it('a database restored without its manifest is adopted', async () => {
    const store = await open();
    store.add(record(0));
    await store.commit();
    await store.close();
    opened.length = 0;
    rmSync(file);
    const again = await open();
    expect(again.size).toBe(1);
    expect(JSON.parse(readFileSync(file, 'utf8')).database).toBe('incidents.mdb');
  });
});
