/**
 * Rooms' bookkeeping against a scripted stream (the real servers are in test/integration/servers.test.ts and
 * ejabberd.test.ts): a new stream sends pending joins again, a privacy change or our promotion to moderator makes
 * the bot ask the room for its occupants again, and a refused join says why.
 */
import { EventEmitter } from 'node:events';
import xml, { type Element } from '@xmpp/xml';
import { beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { MUC_NS, MUC_USER_NS, RoomJoinError, Rooms } from '../../src/xmpp/rooms.js';
import type { Client } from '../../src/xmpp/connection.js';

const ROOM = 'ops@conference.example.org';
const NICK = 'incident-bot';

let stream: EventEmitter & { sent: Element[] };
let rooms: Rooms;

beforeEach(() => {
  const sent: Element[] = [];
  stream = Object.assign(new EventEmitter(), {
    sent,
    status: 'online',
    send: async (el: Element) => void sent.push(el),
    iqCaller: { request: async () => xml('iq', { type: 'result' }) },
  });
  rooms = new Rooms(stream as unknown as Client, NICK, silentLogger());
});

const joinPresences = () => stream.sent.filter((el) => el.is('presence') && el.getChild('x', MUC_NS) && !el.attrs.type);
const settled = () => new Promise((r) => setImmediate(r));

function presence(nick: string, item: Record<string, string>, codes: string[] = [], type?: string): Element {
  return xml(
    'presence',
    { from: `${ROOM}/${nick}`, ...(type ? { type } : {}) },
    xml('x', { xmlns: MUC_USER_NS }, xml('item', item), ...codes.map((code) => xml('status', { code }))),
  );
}
const selfPresence = (role = 'participant', codes: string[] = []) =>
  presence(NICK, { jid: `bot@example.org/bot`, role, affiliation: 'none' }, ['110', ...codes]);

async function joined(): Promise<void> {
  const join = rooms.join(ROOM);
  await settled();
  stream.emit('stanza', presence('alice', { role: 'participant', affiliation: 'none' }));
  stream.emit('stanza', selfPresence());
  await join;
}

describe('joins and reconnects', () => {
  it('sends a join still pending from a dropped stream again on the new stream, and its caller gets the outcome', async () => {
    const join = rooms.join(ROOM, 60_000);
    await settled();
    expect(joinPresences()).toHaveLength(1);
    // The stream drops before the room answers; a new stream comes up: the join must go out again on it, at once
    // (the old code waited for the old join's timeout, then retried: ~10 s out of the room).
    stream.emit('online');
    await settled();
    expect(joinPresences()).toHaveLength(2);
    stream.emit('stanza', selfPresence());
    await expect(join).resolves.toBeUndefined();
    expect(rooms.isJoined(ROOM)).toBe(true);
  });

  it('does not send a second join for the same room on the same stream', async () => {
    const a = rooms.join(ROOM);
    const b = rooms.join(ROOM);
    await settled();
    expect(joinPresences()).toHaveLength(1);
    stream.emit('stanza', selfPresence());
    await Promise.all([a, b]);
  });

  it('rejects with the condition and the room text when the room refuses us, and remembers why', async () => {
    const join = rooms.join(ROOM);
    await settled();
    stream.emit(
      'stanza',
      xml(
        'presence',
        { from: `${ROOM}/${NICK}`, type: 'error' },
        xml(
          'error',
          { type: 'auth' },
          xml('registration-required', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }),
          xml('text', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }, 'Membership is required to enter this room'),
        ),
      ),
    );
    const err = await join.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RoomJoinError);
    expect((err as RoomJoinError).condition).toBe('registration-required');
    expect((err as Error).message).toBe(`cannot join ${ROOM}: registration-required (Membership is required to enter this room)`);
    expect(rooms.lastJoinError(ROOM)).toBe((err as Error).message);
    expect(rooms.isJoined(ROOM)).toBe(false);
  });

  it('tells onLeft listeners when the room puts us out, not when we leave', async () => {
    const left: string[] = [];
    rooms.onLeft((room) => left.push(room));
    await joined();
    stream.emit('stanza', presence(NICK, { role: 'none', affiliation: 'none' }, ['110', '307'], 'unavailable'));
    expect(left).toEqual([ROOM]);
    expect(rooms.isJoined(ROOM)).toBe(false);
  });
});

describe('refreshing what the bot knows of occupants', () => {
  it('on a status 172 message (room made non-anonymous) sends its join presence again, and takes the JIDs the room resends', async () => {
    await joined();
    expect(rooms.occupant(ROOM, 'alice')?.jid).toBeUndefined();
    const before = joinPresences().length;
    stream.emit('stanza', xml('message', { from: ROOM, type: 'groupchat' }, xml('x', { xmlns: MUC_USER_NS }, xml('status', { code: '172' }))));
    await settled();
    expect(joinPresences()).toHaveLength(before + 1);
    expect(joinPresences().at(-1)!.attrs.to).toBe(`${ROOM}/${NICK}`);
    stream.emit('stanza', presence('alice', { jid: 'alice@example.org/phone', role: 'participant', affiliation: 'none' }));
    expect(rooms.occupant(ROOM, 'alice')?.jid).toBe('alice@example.org/phone');
  });

  it.each(['173', '174'])('does the same on status %s (room made more anonymous)', async (code) => {
    await joined();
    const before = joinPresences().length;
    stream.emit('stanza', xml('message', { from: ROOM, type: 'groupchat' }, xml('x', { xmlns: MUC_USER_NS }, xml('status', { code }))));
    await settled();
    expect(joinPresences()).toHaveLength(before + 1);
  });

  it('ignores other room status messages and the same codes from an occupant', async () => {
    await joined();
    const before = joinPresences().length;
    stream.emit('stanza', xml('message', { from: ROOM, type: 'groupchat' }, xml('x', { xmlns: MUC_USER_NS }, xml('status', { code: '104' }))));
    stream.emit('stanza', xml('message', { from: `${ROOM}/alice`, type: 'groupchat' }, xml('x', { xmlns: MUC_USER_NS }, xml('status', { code: '172' }))));
    await settled();
    expect(joinPresences()).toHaveLength(before);
  });

  it('on its own promotion to moderator asks for the occupants once (not again on the answer)', async () => {
    await joined();
    const before = joinPresences().length;
    stream.emit('stanza', selfPresence('moderator'));
    await settled();
    expect(joinPresences()).toHaveLength(before + 1);
    stream.emit('stanza', selfPresence('moderator')); // the room's answer to that presence
    await settled();
    expect(joinPresences()).toHaveLength(before + 1);
  });
});
