import { addNote } from '../src/core/triage.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { arg, lookup, restAfter, settle } from './_shared.js';

export default defineCommand({
  name: 'note',
  args: '<ref> <text…>',
  summary: 'adds a note to an incident’s history, and tells the peers that know it',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    const ref = arg(ctx, 0, 'incident reference');
    const text = restAfter(ctx.rest, 1);
    if (!text) throw new UsageError('missing note text');
    const stored = lookup(ctx, ref);
    if (!stored) return;
    const outcome = addNote(stored, ctx.actor, ctx.services.now(), text);
    ctx.reply(await settle(ctx, stored, outcome, 'note'));
  },
});
