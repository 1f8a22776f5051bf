/** Rooms reports name: bounded in number (least recently used left first) and left when idle, on a fake clock. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/log.js';
import { ReportRooms } from '../../src/xmpp/report-rooms.js';
import { RoomJoinError, type Rooms } from '../../src/xmpp/rooms.js';

function setup(maxJoined: number, waiting = 0, refuse?: (room: string) => RoomJoinError | undefined) {
  const joined = new Set<string>();
  /** Rooms the fake Rooms still holds (joined or trying): a failed join must not stay here. */
  const known = new Set<string>();
  const moved: Array<[string, string]> = [];
  const told: string[] = [];
  const joinErrors = new Map<string, string>();
  const rooms = {
    join: async (room: string) => {
      known.add(room);
      const err = refuse?.(room);
      if (err) throw err;
      joined.add(room);
    },
    leave: async (room: string) => void (joined.delete(room), known.delete(room)),
    isJoined: (room: string) => joined.has(room),
    lastJoinError: (room: string) => joinErrors.get(room),
    onLeft: () => undefined,
  } as unknown as Rooms;
  const config = parseConfig({
    xmpp: { service: 'xmpp://127.0.0.1:5222', domain: 'example.org', username: 'bot', password: 'x' },
    rooms: { default: 'ops@conference.example.org', allow: ['*@conference.example.org'], maxJoined, idleLeaveHours: 1 },
    admins: ['alice@example.org'],
    storage: { path: '/tmp/x.json' },
  });
  let now = 0;
  const reportRooms = new ReportRooms(
    {
      rooms,
      config,
      log: silentLogger(),
      waiting: () => waiting,
      moveWaiting: (from, to) => void moved.push([from, to]),
      tellAdmins: (text) => void told.push(text),
    },
    { now: () => now, sweepEveryMs: 1e9 },
  );
  return { joined, known, moved, told, joinErrors, reportRooms, advance: (ms: number) => (now += ms) };
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

  it('hands the lines waiting for a room it leaves (least recently used) to the default room', async () => {
    const { moved, reportRooms, advance } = setup(1, 2);
    await reportRooms.use('a@conference.example.org');
    advance(1);
    await reportRooms.use('b@conference.example.org');
    expect(moved).toEqual([['a@conference.example.org', 'ops@conference.example.org']]);
    reportRooms.stop();
  });

  it('forgets a room it cannot join, and tells the admins once when someone there holds its nick', async () => {
    const conflict = () => new RoomJoinError('cannot join held@conference.example.org: conflict', 'conflict');
    const { known, told, reportRooms } = setup(5, 0, (room) => (room.startsWith('held@') ? conflict() : undefined));
    await expect(reportRooms.use('held@conference.example.org')).rejects.toThrow(/conflict/);
    await expect(reportRooms.use('held@conference.example.org')).rejects.toThrow(/conflict/);
    expect(known.has('held@conference.example.org')).toBe(false);
    expect(reportRooms.list()).toEqual([]);
    expect(told).toEqual([
      'A report names the room held@conference.example.org, but someone there uses my nick incident-bot. I do not announce under another nick, since they would go on speaking as me: its incidents are announced in ops@conference.example.org instead.',
    ]);
    reportRooms.stop();
  });

  it('leaves an idle room it is out of even though lines wait for it (they move to the default room)', async () => {
    const { joined, moved, reportRooms, advance } = setup(5, 3);
    await reportRooms.use('a@conference.example.org');
    joined.delete('a@conference.example.org'); // its rejoin after a reconnect failed
    advance(2 * 3_600_000);
    await reportRooms.leaveIdle();
    expect(reportRooms.list()).toEqual([]);
    expect(moved).toEqual([['a@conference.example.org', 'ops@conference.example.org']]);
    reportRooms.stop();
  });

  it('leaves a room whose rejoin failed at the next sweep, idle or not, its lines going to the default room', async () => {
    const { joined, moved, joinErrors, reportRooms, advance } = setup(5, 2);
    await reportRooms.use('a@conference.example.org');
    await reportRooms.use('b@conference.example.org');
    joined.delete('a@conference.example.org');
    joinErrors.set('a@conference.example.org', 'cannot join a@conference.example.org: conflict');
    advance(60_000);
    await reportRooms.leaveIdle();
    expect(reportRooms.list()).toEqual(['b@conference.example.org']);
    expect(moved).toEqual([['a@conference.example.org', 'ops@conference.example.org']]);
    reportRooms.stop();
  });

  it('keeps a room it is in while the stream is down: the line waits for the rejoin, nothing is forgotten', async () => {
    let online = true;
    const { joined, known, reportRooms } = setup(5, 0, () => (online ? undefined : new RoomJoinError('not connected')));
    await reportRooms.use('a@conference.example.org');
    online = false;
    joined.delete('a@conference.example.org'); // the stream dropped
    await expect(reportRooms.use('a@conference.example.org')).resolves.toBe('a@conference.example.org');
    expect(known.has('a@conference.example.org')).toBe(true);
    expect(reportRooms.list()).toEqual(['a@conference.example.org']);
    reportRooms.stop();
  });
});
