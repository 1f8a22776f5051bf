import { reopen } from '../src/core/triage.js';
import { defineCommand } from '../src/triage/command.js';
import { arg, lookup, restAfter, settle } from './_shared.js';

export default defineCommand({
  name: 'reopen',
  args: '<ref> [note]',
  summary: 'reopens a resolved incident, and tells the peers that know it',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    const ref = arg(ctx, 0, 'incident reference');
    const stored = lookup(ctx, ref);
    if (!stored) return;
    const note = restAfter(ctx.rest, 1) || undefined;
    const outcome = reopen(stored, ctx.actor, ctx.services.now(), note);
    ctx.reply(await settle(ctx, stored, outcome, 'reopened'));
  },
});
