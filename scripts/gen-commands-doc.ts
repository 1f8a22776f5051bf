/**
 * `npm run docs:commands`: writes docs/commands.md from the commands' own declarations (commands/index.ts).
 * test/commands/reference.test.ts fails when the committed file is stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { allCommands } from '../commands/index.js';
import { commandReference } from '../src/triage/help.js';

const file = new URL('../docs/commands.md', import.meta.url);
mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
writeFileSync(file, `${commandReference(allCommands)}\n`);
process.stdout.write(`wrote ${file.pathname}\n`);
