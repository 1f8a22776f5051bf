/** The gesture router's decisions, with the room seen through a stand-in (the real room is in the integration tests). */
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/log.js';
import { AnnouncementIndex } from '../../src/gestures/announcement-index.js';
import { Gestures } from '../../src/gestures/gestures.js';
import { makeWorld, type World } from '../commands/world.js';

const ROOM = 'operators@conference.example.org';
let world: World | undefined;
let index: AnnouncementIndex | undefined;
afterEach(async () => {
  await index?.close();
  await world?.close();
});

async function setUp(reactions: boolean) {
  world = await makeWorld();
  const config = parseConfig({ ...minimalRaw(), gestures: { reactions } });
  const xmpp = Object.assign(new EventEmitter(), { sent: [] as unknown[], send: async (s: unknown) => void xmpp.sent.push(s) });
  const said: string[] = [];
  const rooms = {
    isJoined: () => true,
    nickIn: () => 'incident-bot',
    isNoise: () => false,
    occupant: (_room: string, nick: string) => (nick === 'alice' ? { nick, jid: 'alice@example.org/laptop', affiliation: 'none', role: 'participant' } : undefined),
  };
  index = AnnouncementIndex.open(join(mkdtempSync(join(tmpdir(), 'gestures-')), 'idx.mdb'));
  const gestures = new Gestures({
    xmpp: xmpp as never,
    config,
    rooms: rooms as never,
    announcer: { say: (_room: string, text: string) => said.push(text) } as never,
    services: world.services,
    index,
    log: silentLogger(),
  });
  return { xmpp, said, gestures, world };
}

function minimalRaw() {
  return {
    xmpp: { service: 'xmpp://127.0.0.1:5222', domain: 'example.org', username: 'incidents', password: 'secret' },
    rooms: { default: ROOM },
    admins: ['alice@example.org'],
    storage: { path: 'data/incidents.json' },
  };
}

const reaction = (id: string, emoji: string) =>
  xml('message', { from: `${ROOM}/alice`, type: 'groupchat' }, xml('reactions', { xmlns: 'urn:xmpp:reactions:0', id }, xml('reaction', {}, emoji)));


describe('gestures config', () => {
  it('reactions default to on; a non-boolean is refused naming the key', () => {
    expect(parseConfig(minimalRaw()).gestures.reactions).toBe(true);
    expect(() => parseConfig({ ...minimalRaw(), gestures: { reactions: 'yes' } })).toThrow(/gestures\.reactions/);
  });

  it('with reactions on, 👀 on a tagged announcement acknowledges it; with them off, nothing happens', async () => {
    for (const on of [true, false]) {
      const { xmpp, said, gestures } = await setUp(on);
      const w = world!;
      const stored = w.add();
      await w.store.flush();
      const id = gestures.tag(ROOM, stored.number);
      xmpp.emit('stanza', reaction(id, '👀'));
      // Switched off, the reaction is dropped before anything asynchronous: nothing to wait for.
      if (on) await vi.waitFor(() => expect(said.some((s) => s.includes('acknowledged'))).toBe(true), { timeout: 5000 });
      expect(w.store.getByNumber(stored.number)!.state).toBe(on ? 'acked' : 'open');
      expect(said.some((s) => s.includes('acknowledged'))).toBe(on);
      await index!.close();
      index = undefined;
      await w.close();
      world = undefined;
    }
  });
});
