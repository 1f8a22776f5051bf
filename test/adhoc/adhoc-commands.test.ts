/** Ad-hoc command forms build the text command lines the text front end runs: checked by running them. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adhocCommandsFor, genericRefCommand } from '../../src/adhoc/adhoc-commands.js';
import { defineCommand } from '../../src/triage/command.js';
import { makeWorld, PEER, type World } from '../commands/world.js';
import { allCommands } from '../../commands/index.js';

let world: World;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(async () => {
  await world.close();
});

const byNode = (node: string) => adhocCommandsFor(allCommands).find((c) => c.node === node)!;
const values = (entries: Record<string, string[]>) => new Map(Object.entries(entries));

describe('ad-hoc command forms', () => {
  it('offers ack, solve, report and forward (block only once it is declared)', () => {
    expect(adhocCommandsFor(allCommands).map((c) => c.node)).toEqual(['ack', 'solve', 'report', 'forward', 'block']);
    const withoutBlock = allCommands.filter((c) => c.name !== 'block');
    expect(adhocCommandsFor(withoutBlock).map((c) => c.node)).toEqual(['ack', 'solve', 'report', 'forward']);
    const block = defineCommand({ name: 'block', args: '<ref> [note]', summary: 'blocks', access: 'admin', where: 'both', run() {} });
    expect(adhocCommandsFor([...withoutBlock, block]).map((c) => c.node)).toContain('block');
    expect(genericRefCommand(block).line(values({ incident: ['1'], args: ['spam  wave'] }), world.services)).toMatch(/^block #1 spam wave$/);
  });

  it('ack lists the open incidents as choices and builds a line that acknowledges the chosen ones', async () => {
    const a = world.add();
    const b = world.add();
    await world.store.flush();
    const form = byNode('ack').form(world.services);
    const field = form.fields.find((f) => f.var === 'incident')!;
    expect(field.type).toBe('list-multi');
    expect(field.options!.map((o) => o.value).slice(0, 2)).toEqual([String(b.number), String(a.number)]);
    expect(field.options![0]!.label).toContain(`#${b.number}`);
    const line = byNode('ack').line(values({ incident: [String(a.number), String(b.number)], note: ['on\nit'] }), world.services);
    expect(line).toBe(`ack #${a.number} #${b.number} on it`);
    const ran = await world.run(line as string, 'admin', 'dm');
    expect(ran.result).toBe('ran');
    expect(world.store.getByNumber(a.number)!.state).toBe('acked');
  });

  it('refuses an incident that does not exist, a missing choice, and a multi-word peer', () => {
    expect(byNode('ack').line(values({ incident: ['99999'] }), world.services)).toEqual({ error: "incident: '99999' is not an incident I know" });
    expect(byNode('ack').line(values({}), world.services)).toEqual({ error: 'choose an incident' });
    const a = world.add();
    expect(byNode('forward').line(values({ incident: [String(a.number)], peer: ['a b'] }), world.services)).toEqual({ error: 'choose one peer' });
  });

  it('solve, report and forward build their text commands', () => {
    const a = world.add();
    expect(byNode('solve').line(values({ incident: [String(a.number)], text: ['blocked'], ip: ['192.0.2.1\n192.0.2.2'], jid: ['x@y.example'] }), world.services)).toBe(
      `solve #${a.number} blocked ip=192.0.2.1 ip=192.0.2.2 jid=x@y.example`,
    );
    expect(byNode('report').line(values({ severity: ['2'], category: ['muc/presence'], text: ['flood'], src: ['203.0.113.7'] }), world.services)).toBe(
      'report 2 muc/presence flood src=203.0.113.7',
    );
    expect(byNode('report').line(values({ severity: ['2'], category: ['muc presence'], text: ['flood'] }), world.services)).toEqual({ error: 'category: one word, e.g. muc/presence' });
    const forward = byNode('forward');
    expect(forward.form(world.services).fields.find((f) => f.var === 'peer')!.options!.map((o) => o.value)).toContain(PEER);
    expect(forward.line(values({ incident: [String(a.number)], peer: [PEER] }), world.services)).toBe(`forward #${a.number} ${PEER}`);
  });
});
