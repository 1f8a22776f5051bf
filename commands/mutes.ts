import { steadyWallNow } from '../src/core/clock.js';
import { line } from '../src/core/flat-text.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { formatDuration } from '../src/triage/duration.js';

export default defineCommand({
  name: 'mutes',
  args: '',
  summary: 'lists the mutes in force',
  access: 'admin',
  where: 'both',
  run(ctx) {
    if (ctx.args.length) throw new UsageError('mutes takes no arguments');
    const now = steadyWallNow();
    const mutes = (ctx.services.mutes?.list() ?? []).filter((m) => Date.parse(m.until) > now);
    if (mutes.length === 0) {
      ctx.reply('Nothing is muted.');
      return;
    }
    ctx.reply(
      mutes
        .map((m) => line`${m.kind} ${m.what}: ${formatDuration(Date.parse(m.until) - now)} left, ${m.held} held, by ${m.by}${m.reason ? line` — ${m.reason}` : ''}`)
        .join('\n'),
    );
  },
});
