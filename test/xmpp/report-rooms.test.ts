/** Rooms reports name: bounded in number (least recently used left first) and left when idle, on a fake clock. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/log.js';
import { ReportRooms } from '../../src/xmpp/report-rooms.js';
import type { Rooms } from '../../src/xmpp/rooms.js';

function setup(maxJoined: number, waiting = 0) {
  const joined = new Set<string>();
  const rooms = {
    join: async (room: string) => void joined.add(room),
    leave: async (room: string) => void joined.delete(room),
    onLeft: () => undefined,
  } as unknown as Rooms;
  const config = parseConfig({
    xmpp: { service: 'xmpp://127.0.0.1:5222', domain: 'example.org', username: 'bot', password: 'x' },
    rooms: { default: 'ops@conference.example.org', allow: ['*@conference.example.org'], maxJoined, idleLeaveHours: 1 },
    storage: { path: '/tmp/x.json' },
  });
  let now = 0;
  const reportRooms = new ReportRooms({ rooms, config, log: silentLogger(), waiting: () => waiting }, { now: () => now, sweepEveryMs: 1e9 });
  return { joined, reportRooms, advance: (ms: number) => (now += ms) };
}

describe('ReportRooms', () => {
  it('keeps at most maxJoined rooms, leaving the least recently used', async () => {
    const { joined, reportRooms, advance } = setup(2);
    await reportRooms.use('a@conference.example.org');
    advance(1);
    await reportRooms.use('b@conference.example.org');
    advance(1);
    await reportRooms.use('A@conference.example.org'); // a is used again: b is now the oldest
    advance(1);
    await reportRooms.use('c@conference.example.org');
    expect([...joined].sort()).toEqual(['a@conference.example.org', 'c@conference.example.org']);
    expect(reportRooms.list()).toEqual(['a@conference.example.org', 'c@conference.example.org']);
    reportRooms.stop();
  });

  it('leaves rooms with no incident for idleLeaveHours, unless lines still wait for them', async () => {
    const { joined, reportRooms, advance } = setup(5);
    await reportRooms.use('a@conference.example.org');
    advance(30 * 60_000);
    await reportRooms.use('b@conference.example.org');
    advance(31 * 60_000);
    await reportRooms.leaveIdle();
    expect([...joined]).toEqual(['b@conference.example.org']);
    reportRooms.stop();

    const busy = setup(5, 3);
    await busy.reportRooms.use('a@conference.example.org');
    busy.advance(2 * 3_600_000);
    await busy.reportRooms.leaveIdle();
    expect([...busy.joined]).toEqual(['a@conference.example.org']);
    busy.reportRooms.stop();
  });
});
