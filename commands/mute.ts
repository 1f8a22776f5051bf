import { steadyWallNow } from '../src/core/clock.js';
import { line } from '../src/core/flat-text.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { formatDuration, parseDuration } from '../src/triage/duration.js';

const WHAT = /^[\w.@-]{1,100}$/;

export default defineCommand({
  name: 'mute',
  args: '<peer|domain|category> <duration> [reason]',
  summary: 'stops announcing reports from a peer, a domain or of a category for a while (they are still stored)',
  details: 'Durations: 30m, 2h, 1d (at most 30 days). Reports are still stored, acknowledged, counted and searchable; when the mute ends one line says what arrived meanwhile. !unmute ends it early, !mutes lists them.',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    const [what, duration] = ctx.args;
    if (!what || !duration) throw new UsageError('give what to mute and for how long');
    if (!WHAT.test(what)) throw new UsageError(`'${what.slice(0, 40)}' is not a peer JID, a domain or a category`);
    const ms = parseDuration(duration);
    if (ms === undefined) throw new UsageError(`'${duration.slice(0, 20)}' is not a duration (30m, 2h, 1d; at most 30 days)`);
    const mutes = ctx.services.mutes;
    if (!mutes) throw new Error('mutes are not available');
    const reason = ctx.args.slice(2).join(' ') || undefined;
    const until = new Date(steadyWallNow() + ms).toISOString();
    const mute = await mutes.add({ what, until, by: ctx.actor, ...(reason ? { reason } : {}) });
    ctx.reply(line`muted ${mute.kind} ${mute.what} for ${formatDuration(ms)} (until ${until.slice(11, 16)} UTC): reports are stored but not announced`);
  },
});
