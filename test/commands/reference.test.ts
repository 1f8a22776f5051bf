/** The manual's command reference is generated from the declarations; a stale committed copy fails here. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allCommands } from '../../commands/index.js';
import { commandReference } from '../../src/triage/help.js';

describe('docs/commands.md', () => {
  it('is what `npm run docs:commands` writes from the current declarations', () => {
    const committed = readFileSync(new URL('../../docs/commands.md', import.meta.url), 'utf8');
    expect(committed).toBe(`${commandReference(allCommands)}\n`);
  });

  it('names every command', () => {
    const committed = readFileSync(new URL('../../docs/commands.md', import.meta.url), 'utf8');
    for (const c of allCommands) expect(committed).toContain(`${c.name}`);
  });
});
