/**
 * The announcer's pace, on a fake clock: immediate lines in a quiet room, quick grouped lines at the start of a
 * storm, then one summary every few seconds while it lasts; replies never wait for the storm's budget; every
 * announced number reaches the room.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ANNOUNCER_DEFAULTS, Announcer, MAX_WAITING_ANNOUNCEMENTS } from '../../src/xmpp/announcer.js';
import type { Rooms } from '../../src/xmpp/rooms.js';
import { silentLogger } from '../../src/log.js';

const ROOM = 'ops@conference.example.org';
const { intervalMs, stormLines, stormIntervalMs, quietMs } = ANNOUNCER_DEFAULTS;

let sent: Array<{ at: number; text: string }>;
let announcer: Announcer;
let t0: number;
/** The fake room's membership, and who listens for the bot getting (back) in. */
let inRoom: boolean;
let joinedListeners: Array<(room: string) => void>;

beforeEach(() => {
  vi.useFakeTimers();
  t0 = Date.now();
  sent = [];
  inRoom = true;
  joinedListeners = [];
  const rooms = {
    send: async (_room: string, text: string) => void sent.push({ at: Date.now() - t0, text }),
    isJoined: () => inRoom,
    onJoined: (listener: (room: string) => void) => joinedListeners.push(listener),
  } as unknown as Rooms;
  announcer = new Announcer(rooms, silentLogger());
});

afterEach(() => {
  announcer.stop();
  vi.useRealTimers();
});

const announce = (n: number, domain = 'peer.example') =>
  announcer.announce(ROOM, { number: n, change: 'new', fromDomain: domain, text: `#${n} NEW incident from ${domain}` });

/** When each number first appeared in a line. */
function firstSeen(): Map<number, number> {
  const seen = new Map<number, number>();
  for (const { at, text } of sent) {
    for (const [, a, b] of text.matchAll(/#(\d+)(?:–#(\d+))?/g)) {
      for (let n = Number(a); n <= Number(b ?? a); n++) if (!seen.has(n)) seen.set(n, at);
    }
  }
  return seen;
}

describe('Announcer', () => {
  it('in a quiet room an announcement goes out at once, whole', async () => {
    announce(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([{ at: 0, text: '#1 NEW incident from peer.example' }]);
  });

  it('a burst of 1,000 in one second: a handful of grouped lines, each number seen within one interval', async () => {
    const arrived = new Map<number, number>();
    for (let n = 1; n <= 1000; n++) {
      arrived.set(n, Date.now() - t0);
      announce(n);
      if (n % 10 === 0) await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(5000);
    const seen = firstSeen();
    expect(seen.size).toBe(1000);
    expect(sent.length).toBeLessThanOrEqual(1000 / (10 * (intervalMs / 10)) + 2);
    expect(sent.length).toBeLessThanOrEqual(stormLines);
    const worst = Math.max(...[...arrived].map(([n, at]) => seen.get(n)! - at));
    expect(worst).toBeLessThanOrEqual(intervalMs);
    expect(sent.some((s) => /\d+ new incidents from peer\.example: #\d+–#\d+/.test(s.text))).toBe(true);
  });

  it('a storm that goes on gets one summary line per storm interval once its budget is spent', async () => {
    // 20 reports a second for 60 seconds.
    let n = 0;
    for (let ms = 0; ms < 60_000; ms += 50) {
      announce(++n);
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(stormIntervalMs * 2);
    expect(firstSeen().size).toBe(n);
    expect(sent.length).toBeLessThanOrEqual(stormLines + 60_000 / stormIntervalMs + 2);
    const late = sent.filter((s) => s.at > 10_000);
    for (let i = 1; i < late.length; i++) expect(late[i]!.at - late[i - 1]!.at).toBeGreaterThanOrEqual(stormIntervalMs);
  });

  it('a command reply during a long storm waits one short interval, not a storm interval', async () => {
    let n = 0;
    for (let ms = 0; ms < 10_000; ms += 50) {
      announce(++n);
      await vi.advanceTimersByTimeAsync(50);
    }
    const asked = Date.now() - t0;
    announcer.say(ROOM, '#3 acknowledged');
    await vi.advanceTimersByTimeAsync(stormIntervalMs);
    const reply = sent.find((s) => s.text === '#3 acknowledged');
    expect(reply).toBeDefined();
    expect(reply!.at - asked).toBeLessThanOrEqual(intervalMs);
  });

  it('a room that has been quiet gets its budget back: the next report goes out at once', async () => {
    for (let n = 1; n <= 400; n++) {
      announce(n);
      if (n % 4 === 0) await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(quietMs + stormIntervalMs * 3);
    const before = sent.length;
    const at = Date.now() - t0;
    announce(401);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.length).toBe(before + 1);
    expect(sent.at(-1)).toEqual({ at, text: '#401 NEW incident from peer.example' });
  });

  it('reports from two domains are grouped per domain', async () => {
    announce(1);
    await vi.advanceTimersByTimeAsync(0);
    for (let n = 2; n <= 9; n++) announce(n, n % 2 ? 'a.example' : 'b.example');
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent.map((s) => s.text)).toEqual([
      '#1 NEW incident from peer.example',
      '4 new incidents from b.example: #2, #4, #6, #8 — !list to see them',
      '4 new incidents from a.example: #3, #5, #7, #9 — !list to see them',
    ]);
  });
});

describe('out of the room (disconnected, rejoining)', () => {
  it('keeps announcements and replies, folded, and sends them once the bot is back in', async () => {
    inRoom = false;
    for (let n = 1; n <= 50; n++) announce(n);
    announcer.say(ROOM, 'an answer to a command');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent).toEqual([]);
    expect(announcer.waiting(ROOM)).toBe(51);

    inRoom = true;
    for (const listener of joinedListeners) listener(ROOM);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent.some((s) => s.text === 'an answer to a command')).toBe(true);
    expect([...firstSeen().keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // Folded: far fewer lines than announcements.
    expect(sent.length).toBeLessThan(10);
    expect(announcer.waiting(ROOM)).toBe(0);
  });

  it('keeps at most MAX_WAITING_ANNOUNCEMENTS, the newest, and says how many older ones were not kept', async () => {
    inRoom = false;
    const total = MAX_WAITING_ANNOUNCEMENTS + 500;
    for (let n = 1; n <= total; n++) announce(n);
    expect(announcer.waiting(ROOM)).toBe(MAX_WAITING_ANNOUNCEMENTS);
    inRoom = true;
    for (const listener of joinedListeners) listener(ROOM);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(sent[0]!.text).toBe('500 older announcements were not kept while I was out of this room (they are stored: !list shows them).');
    const seen = [...firstSeen().keys()].sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: MAX_WAITING_ANNOUNCEMENTS }, (_, i) => i + 501));
  });

  it('hands what waits for a room it leaves to another room, nothing lost', async () => {
    inRoom = false;
    const other = 'report-room@conference.example.org';
    for (let n = 1; n <= 5; n++) announcer.announce(other, { number: n, change: 'new', fromDomain: 'peer.example', text: `#${n} NEW incident` });
    announcer.say(other, 'a reply');
    announcer.moveWaiting(other, ROOM);
    expect(announcer.waiting(other)).toBe(0);
    expect(announcer.waiting(ROOM)).toBe(6);
    inRoom = true;
    for (const listener of joinedListeners) listener(ROOM);
    await vi.advanceTimersByTimeAsync(60_000);
    expect([...firstSeen().keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect(sent.some((s) => s.text === 'a reply')).toBe(true);
  });
});

describe('a trickle', () => {
  it('one report every 2.5 s is announced line by line, at once, however long it lasts', async () => {
    for (let n = 1; n <= 60; n++) {
      announce(n);
      await vi.advanceTimersByTimeAsync(2_500);
    }
    const seen = firstSeen();
    expect(sent.every((s) => !/–/.test(s.text))).toBe(true); // no summary line
    for (let n = 1; n <= 60; n++) expect(seen.get(n)! - (n - 1) * 2_500).toBeLessThan(intervalMs + 1);
  });
});
