import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { isDue, nextReminderAt, reminderLine, Reminders } from '../../src/core/reminders.js';
import type { RemindersConfig } from '../../src/core/reminders-config.js';
import { readStoreContents } from '../../src/core/store-reader.js';
import { makeWorld, type World } from '../commands/world.js';

const RECEIVED = Date.parse('2025-12-01T10:00:00Z');
const MIN = 60_000;
const defaults = (): RemindersConfig =>
  parseConfig({ xmpp: { service: 'xmpp://localhost:5222', domain: 'example.org', username: 'bot', password: 'x' }, rooms: { default: 'ops@conference.example.org' }, storage: { path: '/tmp/x' } }).reminders;

let w: World;
let said: string[];
let wall: number;
const reminders = (cfg: RemindersConfig = defaults()) =>
  new Reminders({ store: w.store, config: () => cfg, say: (t) => said.push(t), log: { warn: () => undefined }, clock: { now: () => 0, wall: () => wall } });

beforeEach(async () => {
  w = await makeWorld();
  said = [];
  wall = RECEIVED;
});
afterEach(() => w.close());

describe('the reminders config', () => {
  it('defaults to 15 min for severity 1–2, 60 min for the rest, 3 times', () => {
    expect(defaults()).toEqual({ enabled: true, urgentAfterMinutes: 15, otherAfterMinutes: 60, maxTimes: 3, checkSeconds: 30 });
  });

  it('names a wrong key', () => {
    expect(() =>
      parseConfig({
        xmpp: { service: 'xmpp://localhost:5222', domain: 'example.org', username: 'bot', password: 'x' },
        rooms: { default: 'ops@conference.example.org' },
        storage: { path: '/tmp/x' },
        reminders: { maxTimes: 0 },
      }),
    ).toThrow(/reminders\.maxTimes/);
  });
});

describe('when a reminder is due', () => {
  it('severity 2 after 15 min, severity 3 after 60 min; never for acked or untrusted ones', () => {
    const cfg = defaults();
    const urgent = w.store.getByNumber(1)!;
    expect(nextReminderAt(urgent, cfg)).toBe(RECEIVED + 15 * MIN);
    expect(isDue(urgent, cfg, RECEIVED + 14 * MIN)).toBe(false);
    expect(isDue(urgent, cfg, RECEIVED + 15 * MIN)).toBe(true);
    const other = w.add((e) => (e.incident.severity = 3));
    expect(nextReminderAt(other, cfg)).toBe(RECEIVED + 60 * MIN);
    expect(nextReminderAt(w.store.getByNumber(2)!, cfg)).toBeUndefined();
    expect(nextReminderAt(w.store.getByNumber(3)!, cfg)).toBeUndefined();
  });

  it('a snooze holds it until it ends, and maxTimes ends them', () => {
    const cfg = defaults();
    const s = w.store.getByNumber(1)!;
    s.reminder = { count: 1, lastAt: new Date(RECEIVED + 15 * MIN).toISOString(), snoozedUntil: new Date(RECEIVED + 120 * MIN).toISOString() };
    expect(nextReminderAt(s, cfg)).toBe(RECEIVED + 120 * MIN);
    s.reminder = { count: 3, lastAt: new Date(RECEIVED).toISOString() };
    expect(nextReminderAt(s, cfg)).toBeUndefined();
  });
});

describe('the reminder line', () => {
  it('names one incident with how long it waited and what to do', () => {
    const line = reminderLine([w.store.getByNumber(1)!], RECEIVED + 16 * MIN);
    expect(line).toBe('reminder: *#1* still *open* (sev 2, muc from peer.example), unacknowledged for 16 min — !ack #1 or !snooze #1 30m');
  });

  it('folds several into one line, most serious first', () => {
    const low = w.add((e) => (e.incident.severity = 4));
    const line = reminderLine([low, w.store.getByNumber(1)!], RECEIVED + 45 * MIN);
    expect(line).toBe(`reminder: 2 incidents still *open*, unacknowledged — #1 (sev 2, 45 min), #${low.number} (sev 4, 45 min) — !ack or !snooze them`);
  });
});

describe('Reminders.check', () => {
  it('reminds once when due, records it durably, again after the interval, at most maxTimes', async () => {
    const r = reminders();
    wall = RECEIVED + 10 * MIN;
    expect(await r.check()).toEqual([]);
    wall = RECEIVED + 15 * MIN;
    expect(await r.check()).toEqual([1]);
    expect(said).toHaveLength(1);
    expect(await r.check()).toEqual([]);
    const onDisk = (await readStoreContents(w.config.storage.path)).incidents.find((s) => s.number === 1)!;
    expect(onDisk.reminder).toEqual({ count: 1, lastAt: new Date(RECEIVED + 15 * MIN).toISOString() });
    for (const at of [30, 45, 60, 75]) {
      wall = RECEIVED + at * MIN;
      await r.check();
    }
    expect(said).toHaveLength(3);
  });

  it('folds the due ones into one line', async () => {
    w.add((e) => (e.incident.severity = 1));
    await w.store.commit();
    wall = RECEIVED + 15 * MIN;
    expect(await reminders().check()).toEqual([4, 1]);
    expect(said).toEqual([expect.stringMatching(/^reminder: 2 incidents still \*open\*/)]);
  });

  it('says nothing when turned off', async () => {
    wall = RECEIVED + 600 * MIN;
    expect(await reminders({ ...defaults(), enabled: false }).check()).toEqual([]);
    expect(said).toEqual([]);
  });
});

describe('!snooze', () => {
  it('holds reminders for the duration, survives in the store, and off ends it', async () => {
    const ran = await w.run('!snooze #1 2h');
    expect(ran.replies).toEqual([expect.stringMatching(/^#1: reminders held for 2h, until 2026-01-02 05:04 UTC$/)]);
    const onDisk = (await readStoreContents(w.config.storage.path)).incidents.find((s) => s.number === 1)!;
    expect(onDisk.reminder?.snoozedUntil).toBe('2026-01-02T05:04:05.000Z');
    wall = Date.parse('2026-01-02T04:00:00Z');
    expect(await reminders().check()).toEqual([]);
    wall = Date.parse('2026-01-02T05:05:00Z');
    expect(await reminders().check()).toEqual([1]);
    expect((await w.run('!snooze #1 off')).replies).toEqual(['#1: reminders no longer held']);
    expect(w.store.getByNumber(1)!.reminder?.snoozedUntil).toBeUndefined();
  });

  it('answers a bad duration or a missing reference with the usage', async () => {
    expect((await w.run('!snooze #1 soon')).replies[0]).toMatch(/^'soon' is not a duration like 30m, 2h or 1d \(at most 30d\)\. Usage: !snooze/);
    expect((await w.run('!snooze 2h')).result).toBe('usage');
    expect((await w.run('!snooze #1 note 2h')).result).toBe('usage');
    expect(w.store.getByNumber(1)!.reminder).toBeUndefined();
  });

  it('takes ranges', async () => {
    const ran = await w.run('!snooze #1-#2 30m');
    expect(ran.replies[0]!.split('\n')).toEqual([
      expect.stringMatching(/^#1: reminders held for 30m/),
      expect.stringMatching(/^#2: reminders held for 30m, until .* \(it is acked: no reminders anyway\)$/),
    ]);
  });
});

describe('a reopened incident', () => {
  it('gets its reminders again, counted from the reopening', async () => {
    const s = w.store.getByNumber(1)!;
    s.reminder = { count: 3, lastAt: new Date(RECEIVED).toISOString() };
    w.store.save(s);
    await w.run('!solve #1 done');
    await w.run('!reopen #1');
    const reopenedAt = Date.parse(w.store.getByNumber(1)!.reminder!.lastAt!);
    expect(w.store.getByNumber(1)!.reminder?.count).toBe(0);
    expect(nextReminderAt(w.store.getByNumber(1)!, defaults())).toBe(reopenedAt + 15 * MIN);
  });
});
