import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allCommands } from '../../commands/index.js';
import { makeWorld, type World } from './world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(() => w.close());

/** A plausible, otherwise valid invocation of each admin command. */
const ADMIN_LINES: Record<string, string> = {
  ack: 'ack #1 mine',
  snooze: 'snooze #1 30m',
  mute: 'mute peer.example 1h',
  mutes: 'mutes',
  unmute: 'unmute peer.example',
  take: 'take #1',
  assign: 'assign #1 bob@example.org',
  release: 'release #1',
  solve: 'solve #1 fixed ip=203.0.113.7',
  reopen: 'reopen #1',
  note: 'note #1 hello',
  severity: 'severity #1 5',
  relate: 'relate #1 #2',
  forward: 'forward #1 legacy.example',
  report: 'report 2 muc flood',
  inquire: 'inquire legacy.example 1234',
  request: 'request #1 legacy.example investigate',
  block: 'block #1 spammer@evil.example',
  unblock: 'unblock #1',
  blocks: 'blocks',
  outbox: 'outbox',
  peers: 'peers',
  reload: 'reload',
  search: 'search spam',
  stats: 'stats',
  export: 'export #1 json',
};

describe('permissions', () => {
  it('covers every admin command', () => {
    expect(Object.keys(ADMIN_LINES).sort()).toEqual(allCommands.filter((c) => c.access === 'admin').map((c) => c.name).sort());
  });

  it('a non-admin in the room may not run !ack: refused, nothing changed, no revision', async () => {
    const before = readFileSync(w.config.storage.path, 'utf8');
    const timeline = structuredClone(w.store.getByNumber(1)!.timeline);
    const { result, replies } = await w.run('!ack #1 mine', 'user');
    expect(result).toBe('refused');
    expect(replies).toEqual(['!ack is for admins only.']);
    expect(w.store.getByNumber(1)!.state).toBe('open');
    expect(w.store.getByNumber(1)!.timeline).toEqual(timeline);
    expect(w.calls.revise).toEqual([]);
    expect(readFileSync(w.config.storage.path, 'utf8')).toBe(before);
  });

  it.each(Object.entries(ADMIN_LINES).filter(([name]) => !['search', 'stats', 'export', 'reload'].includes(name)))(
    'a non-admin in the room is refused !%s and no service is called',
    async (name, line) => {
      const { result, replies } = await w.run(`!${line}`, 'user');
      expect(result).toBe('refused');
      expect(replies).toEqual([`!${name} is for admins only.`]);
      expect(w.changes()).toBe(0);
      expect(w.store.size).toBe(3);
    },
  );

  it('a room occupant whose real JID the bot cannot see is told why', async () => {
    const { result, replies } = await w.run('!ack #1', 'anon');
    expect(result).toBe('refused');
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain('I cannot see your real JID in this room');
    expect(replies[0]).toContain('mallory');
    expect(w.store.getByNumber(1)!.state).toBe('open');
    expect(w.calls.revise).toEqual([]);
  });

  it('a DM from a non-admin gets one refusal line, whatever it says', async () => {
    for (const text of ['list', 'help', 'ack #1', 'hello there']) {
      const { result, replies } = await w.run(text, 'user', 'dm');
      expect(result).toBe('refused');
      expect(replies).toEqual(['Sorry, only the administrators of this incident bot can talk to it.']);
    }
    expect(w.changes()).toBe(0);
  });

  it('an unknown !command in the room is ignored without a reply', async () => {
    const { result, replies } = await w.run('!foo bar');
    expect(result).toBe('ignored');
    expect(replies).toEqual([]);
  });

  it('room chatter without ! is ignored', async () => {
    const { result, replies } = await w.run('ack #1');
    expect(result).toBe('ignored');
    expect(replies).toEqual([]);
    expect(w.store.getByNumber(1)!.state).toBe('open');
  });

  it('an unknown command in a DM gets an answer', async () => {
    const { result, replies } = await w.run('foo', 'admin', 'dm');
    expect(result).toBe('unknown');
    expect(replies).toEqual(["Unknown command 'foo'. Send 'help' for the list."]);
  });

  it.each(['search spam', 'stats', 'export #1'])('!%s in the room is direct-message only', async (line) => {
    const { result, replies } = await w.run(`!${line}`);
    expect(result).toBe('refused');
    expect(replies).toEqual([`!${line.split(' ')[0]} works in a direct message only.`]);
    expect(w.calls.export).toEqual([]);
  });

  it('anyone in the room may list and show', async () => {
    expect((await w.run('!list', 'anon')).result).toBe('ran');
    expect((await w.run('!show #1', 'user')).result).toBe('ran');
  });

  it('an admin in a DM may use the ! or leave it out', async () => {
    const plain = await w.run('ack #1', 'admin', 'dm');
    expect(plain.replies).toEqual(['#1 acknowledged — revision queued for 2 peers']);
    const bang = await w.run('!note #1 more', 'admin', 'dm');
    expect(bang.replies).toEqual(['note added to #1 — revision queued for 2 peers']);
  });
});
