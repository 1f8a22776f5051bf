import { line } from '../src/core/flat-text.js';
import { muteEndedLine } from '../src/core/mutes.js';
import { defineCommand, UsageError } from '../src/triage/command.js';

export default defineCommand({
  name: 'unmute',
  args: '<peer|domain|category>',
  summary: 'ends a mute now, with the line saying what arrived meanwhile',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    const what = ctx.args[0];
    if (!what || ctx.args.length > 1) throw new UsageError('give what to unmute');
    const ended = await ctx.services.mutes?.remove(what);
    ctx.reply(ended ? line`${muteEndedLine(ended)}` : line`nothing is muted as ${what.slice(0, 100)}`);
  },
});
