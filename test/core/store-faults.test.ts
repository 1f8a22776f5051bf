/**
 * Faults (issue 11): a full disk on a real small filesystem (tmpfs — the test fails, saying so, where it cannot
 * mount one), a damaged store file, and a second writer. Nothing is ever known that was not written; a full disk
 * is reported once and recovered from without help; damage is named, never shown as raw bytes.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncidentStore, StoreDamagedError, StoreWriteError, type OutboxEntry, type StoreHealth, type StoredIncident } from '../../src/core/store.js';
import { rebuildDatabase, checkDatabase } from '../../src/core/store-repair.js';
import { emptyIncident } from '../../src/protocol/incident.js';
import { mountSmallDisk, type SmallDisk } from '../../dev-tools/small-disk.js';

function entry(id: string, text = 'MUC flood from abuse.lit'): Omit<StoredIncident, 'number' | 'key'> {
  const incident = { ...emptyIncident(id), site: 'peer.example', texts: [{ lang: 'en', text }] };
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

function owed(id: string): OutboxEntry {
  const at = '2024-05-01T10:00:00Z';
  return { id, to: 'incidents@peer.example/bot', stanza: 'iq', iqType: 'set', payload: '<report/>', purpose: 'forward', createdAt: at, attempts: 0, nextAttemptAt: at };
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('a full disk (tmpfs)', () => {
  let disk: SmallDisk;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);

  beforeEach(() => {
    disk = mountSmallDisk(8 << 20);
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    disk.unmount();
  });

  it('refuses what it cannot write, knows nothing of it, says so once, and recovers by itself when space returns', async () => {
    const file = path.join(disk.dir, 'incidents.json');
    const store = await IncidentStore.open(file, { probeIntervalMs: 50 });
    const events: StoreHealth[] = [];
    store.onHealthChange((h) => events.push(h));
    const kept = store.add(entry('INC-1'));
    store.enqueue(owed('kept'));
    await store.commit();

    disk.fill(0);
    // A new incident, a change to a stored one, and outbox changes: all refused, all undone.
    const added = store.add(entry('INC-2', 'x'.repeat(200_000)));
    const changed = store.getByNumber(kept.number)!;
    changed.state = 'acked';
    store.save(changed);
    store.enqueue(owed('new'));
    store.dequeue('kept');
    const failure = await store.commit().then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(StoreWriteError);
    expect((failure as StoreWriteError).diskFull).toBe(true);
    expect(store.get(added.key)).toBeUndefined();
    expect(store.getByNumber(added.number)).toBeUndefined();
    expect(store.getByNumber(kept.number)!.state).toBe('open');
    expect(store.outbox.map((e) => e.id)).toEqual(['kept']);
    expect(store.size).toBe(1);
    expect(store.health).toMatchObject({ ok: false, diskFull: true, problem: 'the disk is full' });

    // Still full: a re-sent report is refused again (never "already known"), and the room is not told twice.
    const again = store.add(entry('INC-2', 'x'.repeat(200_000)));
    await expect(store.commit()).rejects.toBeInstanceOf(StoreWriteError);
    expect(store.get(again.key)).toBeUndefined();
    expect(events).toHaveLength(1);

    disk.free();
    await until(() => store.health.ok);
    expect(events.map((e) => e.ok)).toEqual([false, true]);
    const stored = store.add(entry('INC-2', 'x'.repeat(200_000)));
    await store.commit();
    await store.close();
    const reopened = await IncidentStore.open(file);
    expect(reopened.get(stored.key)?.incident.id).toBe('INC-2');
    expect(reopened.size).toBe(2);
    await reopened.close();
    expect(unhandled).toEqual([]);
  });

  it('closing on a full disk releases the lock and says what was not saved', async () => {
    const file = path.join(disk.dir, 'incidents.json');
    const store = await IncidentStore.open(file, { probeIntervalMs: 50 });
    store.add(entry('INC-1'));
    await store.commit();
    disk.fill(0);
    store.add(entry('INC-2', 'x'.repeat(200_000)));
    expect(await store.close()).toEqual({ saved: false });
    expect(existsSync(`${file}.lock`)).toBe(false);
    disk.free();
    const reopened = await IncidentStore.open(file);
    expect(reopened.size).toBe(1);
    await reopened.close();
    expect(unhandled).toEqual([]);
  });
});

describe('a damaged store file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'incident-bot-damage-'));
    file = path.join(dir, 'incidents.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Changes two bytes inside the stored text `marker` (which must occur once in the database file). */
  function damage(marker: string): void {
    const db = path.join(dir, 'incidents.mdb');
    const bytes = readFileSync(db);
    const at = bytes.indexOf(marker);
    expect(at).toBeGreaterThan(0);
    expect(bytes.indexOf(marker, at + 1)).toBe(-1);
    bytes[at + 3] = bytes[at + 3]! ^ 0x5a;
    bytes[at + 4] = 0x00;
    writeFileSync(db, bytes);
  }

  async function storeWith(texts: string[]): Promise<void> {
    const store = await IncidentStore.open(file);
    for (const [n, text] of texts.entries()) store.add(entry(`INC-${n + 1}`, text));
    await store.commit();
    await store.close();
  }

  it('a damaged record is named when read — no raw bytes — and list and search go on around it', async () => {
    await storeWith(['first record text', 'SECOND-RECORD-MARKER abuse', 'third record text']);
    damage('SECOND-RECORD-MARKER');
    const store = await IncidentStore.open(file);
    try {
      let error: unknown;
      try {
        store.getByNumber(2);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(StoreDamagedError);
      expect((error as Error).message).toMatch(/^incident #2 is damaged in the incident store \(checksum mismatch\); restore the store from a backup, or run incident-bot --repair-store/);
      expect((error as Error).message).not.toMatch(/[\u0000-\u0008]|MARKER/);
      const page = store.query({ states: ['open'] });
      expect(page.incidents.map((s) => s.number)).toEqual([3, 1]);
      expect(page.damaged).toEqual([2]);
      expect(store.search('record').incidents.map((s) => s.number)).toEqual([3, 1]);
    } finally {
      await store.close();
    }
    const check = await checkDatabase(path.join(dir, 'incidents.mdb'));
    expect(check.problems).toContain('incident #2');
  });

  it('damage in what open relies on (the newest record) refuses to start, naming it and how to recover', async () => {
    await storeWith(['first record text', 'NEWEST-RECORD-MARKER']);
    damage('NEWEST-RECORD-MARKER');
    await expect(IncidentStore.open(file)).rejects.toThrow(/incident #2 is damaged in the incident store \(checksum mismatch\); restore the store from a backup, or run incident-bot --repair-store/);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('repair sets the damaged records aside, keeps the damaged file, and the store opens with the rest', async () => {
    await storeWith(['first record text', 'NEWEST-RECORD-MARKER']);
    damage('NEWEST-RECORD-MARKER');
    const report = await rebuildDatabase(path.join(dir, 'incidents.mdb'), { reason: 'repair' });
    expect(report.damaged).toEqual(['incident #2']);
    expect(report.incidents).toBe(1);
    expect(existsSync(report.keptAs!)).toBe(true);
    const store = await IncidentStore.open(file);
    expect(store.list().map((s) => s.number)).toEqual([1]);
    expect(store.add(entry('INC-3')).number).toBe(3); // numbers are never reused
    await store.close();
  });
});

describe('one writer', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'incident-bot-lock-'));
    file = path.join(dir, 'incidents.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

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

  it('a lookup during a write finds the incident being written (the same object), so a change made meanwhile is not lost', async () => {
    const store = await IncidentStore.open(file);
    const added = store.add(entry('INC-1'));
    const first = store.commit();
    const found = store.get(added.key);
    expect(found).toBe(added);
    found!.state = 'acked';
    store.save(found!);
    await Promise.all([first, store.commit()]);
    expect(store.getByNumber(1)!.state).toBe('acked');
    await store.close();
  });
});
