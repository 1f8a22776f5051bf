import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allCommands } from '../../commands/index.js';
import { usageOf } from '../../src/triage/command.js';
import { makeWorld, type World } from './world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(() => w.close());

/** The command names a help answer lists, in order. */
function listed(help: string): string[] {
  const [title, ...lines] = help.split('\n');
  expect(title).toBe('Commands you can run here:');
  return lines.map((l) => /^!?(\S+)/.exec(l)![1]!);
}

const DM_ONLY = ['search', 'stats', 'export', 'reload'];

describe('the command list', () => {
  it('holds every command once, in help order', () => {
    expect(allCommands.map((c) => c.name)).toEqual([
      'help', 'list', 'show', 'ack', 'take', 'assign', 'release', 'snooze', 'solve', 'reopen', 'note', 'severity', 'relate',
      'forward', 'report', 'inquire', 'request', 'block', 'unblock', 'blocks', 'mute', 'unmute', 'mutes', 'outbox', 'peers', 'search', 'stats', 'export', 'reload',
    ]);
  });

  it('declares who and where as the brief says', () => {
    const anyone = allCommands.filter((c) => c.access === 'anyone').map((c) => c.name);
    expect(anyone).toEqual(['help', 'list', 'show']);
    expect(allCommands.filter((c) => c.where === 'dm').map((c) => c.name)).toEqual(DM_ONLY);
    expect(allCommands.filter((c) => c.where === 'room')).toEqual([]);
  });
});

describe('help', () => {
  it('a non-admin in the room sees only help, list and show', async () => {
    const { replies } = await w.run('!help', 'user');
    expect(replies).toHaveLength(1);
    expect(listed(replies[0]!)).toEqual(['help', 'list', 'show']);
    expect(replies[0]).toContain('!show <ref> — ');
  });

  it('an occupant without a visible JID sees the same', async () => {
    expect(listed((await w.run('!help', 'anon')).replies[0]!)).toEqual(['help', 'list', 'show']);
  });

  it('an admin in the room sees every room command, but not the DM-only ones', async () => {
    const names = listed((await w.run('!help')).replies[0]!);
    expect(names).toEqual(allCommands.map((c) => c.name).filter((n) => !DM_ONLY.includes(n)));
  });

  it('an admin in a DM sees every command, each with its usage line without the !', async () => {
    const help = (await w.run('help', 'admin', 'dm')).replies[0]!;
    expect(listed(help)).toEqual(allCommands.map((c) => c.name));
    for (const spec of allCommands) expect(help).toContain(`\n${usageOf(spec, '')} — ${spec.summary}`);
    expect(help).not.toMatch(/^!/m);
  });

  it('help <command> shows its usage line and summary', async () => {
    const { replies } = await w.run('!help ack');
    const [usage, summary] = replies[0]!.split('\n');
    expect(usage).toBe('!ack <ref>… [note]');
    expect(summary).toBe(allCommands.find((c) => c.name === 'ack')!.summary);
  });

  it('help !command works too, and in a DM the usage has no !', async () => {
    expect((await w.run('help !search', 'admin', 'dm')).replies[0]!.split('\n')[0]).toBe('search <ip|jid|domain|word> …');
  });

  it('help about a command the asker cannot run here says so', async () => {
    expect((await w.run('!help ack', 'user')).replies[0]).toMatch(/^No command 'ack' that you can run here/);
    expect((await w.run('!help stats')).replies[0]).toMatch(/^No command 'stats' that you can run here/);
  });
});
