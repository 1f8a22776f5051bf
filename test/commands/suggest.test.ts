import { describe, expect, it } from 'vitest';
import { allCommands } from '../../commands/index.js';
import { closestCommand } from '../../src/triage/suggest.js';
import { makeWorld } from './world.js';

const names = allCommands.map((c) => c.name);

describe('did you mean', () => {
  it.each([
    ['acknowledge', 'ack'],
    ['ackk', 'ack'],
    ['slove', 'solve'],
    ['sho', 'show'],
    ['reopn', 'reopen'],
    ['lsit', 'list'],
  ])('!%s → !%s', (typed, meant) => {
    expect(closestCommand(typed, names)).toBe(meant);
  });

  it.each(['weather', 'karma', 'foo', 'x', 'deploy'])('leaves !%s alone (another bot may own it)', (typed) => {
    expect(closestCommand(typed, names)).toBeUndefined();
  });

  it('answers near misses in the room, stays silent for other words, and reads !ack#3 and ! ack #3 as !ack #3', async () => {
    const w = await makeWorld();
    try {
      expect((await w.run('!acknowledge #2')).replies).toEqual(['unknown command !acknowledge — did you mean !ack?']);
      expect(await w.run('!weather paris')).toMatchObject({ result: 'ignored', replies: [] });
      expect((await w.run('!ack#1')).result).toBe('ran');
      expect(w.store.getByNumber(1)!.state).toBe('acked');
      expect((await w.run('! note #1 spaced out')).result).toBe('ran');
      expect(w.store.getByNumber(1)!.timeline.at(-1)?.text).toBe('spaced out');
    } finally {
      await w.close();
    }
  });
});
