import { steadyWallNow } from '../src/core/clock.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { formatDuration, parseDuration } from '../src/triage/duration.js';
import { resolveRef } from '../src/triage/args.js';
import { refsOf } from './_owner.js';

export default defineCommand({
  name: 'snooze',
  args: '<ref>… <duration>',
  summary: 'holds the reminders of incidents for a while (30m, 2h, 1d)',
  details: 'Reminders re-announce incidents nobody acknowledged (config reminders); a snooze holds them, and survives restarts.',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    const duration = ctx.args.at(-1);
    const ms = duration ? parseDuration(duration) : undefined;
    if (ctx.args.length < 2 || ms === undefined) throw new UsageError(duration && ctx.args.length >= 2 ? `'${duration.slice(0, 20)}' is not a duration (30m, 2h, 1d)` : 'give references and a duration');
    const refs = refsOf(ctx, ctx.args.slice(0, -1));
    const until = new Date(steadyWallNow() + ms).toISOString();
    const lines: string[] = [];
    for (const ref of refs) {
      const found = resolveRef(ctx.services.store, ref);
      if (!found.ok) {
        lines.push(found.message);
        continue;
      }
      found.stored.snoozedUntil = until;
      found.stored.timeline.push({ at: ctx.services.now(), who: ctx.actor, action: 'snoozed', text: `for ${formatDuration(ms)}` });
      ctx.services.store.save(found.stored);
      lines.push(`#${found.stored.number}: no reminder for ${formatDuration(ms)} (until ${until.slice(11, 16)} UTC)`);
    }
    await ctx.services.store.commit();
    ctx.reply(lines.join('\n'));
  },
});
