import { formatDuration, parseDuration } from '../src/triage/duration.js';
import { leadingRefCount, resolveRef } from '../src/triage/args.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { refsOf } from './_owner.js';

export default defineCommand({
  name: 'snooze',
  args: '<ref>… <duration|off>',
  summary: 'holds the reminders of unacknowledged incidents for a while (30m, 2h, 1d), or ends that (off)',
  details:
    'Reminders: an incident nobody acknowledged is re-announced (severity 1–2 after 15 min, 3–5 after 60 min, at most 3 times; config `reminders`). A snooze is kept in the store and survives restarts. Several references or a range #8-#12 may be given.',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    const last = ctx.args.at(-1);
    if (ctx.args.length < 2 || last === undefined) throw new UsageError('give references and a duration');
    const off = last.toLowerCase() === 'off';
    const ms = off ? 0 : parseDuration(last);
    if (ms === undefined) throw new UsageError(`'${last.slice(0, 20)}' is not a duration like 30m, 2h or 1d (at most 30d)`);
    const refArgs = ctx.args.slice(0, -1);
    const refs = refsOf(ctx, refArgs);
    if (leadingRefCount(refArgs) !== refArgs.length) throw new UsageError('only references go before the duration');
    const nowMs = Date.parse(ctx.services.now());
    const until = new Date(nowMs + ms).toISOString();
    const lines: string[] = [];
    for (const ref of refs) {
      const found = resolveRef(ctx.services.store, ref);
      if (!found.ok) {
        lines.push(found.message);
        continue;
      }
      const stored = found.stored;
      const state = stored.reminder ?? { count: 0 };
      const { snoozedUntil: _ended, ...kept } = state;
      stored.reminder = off ? kept : { ...state, snoozedUntil: until };
      stored.timeline.push({ at: ctx.services.now(), who: ctx.actor, action: off ? 'snooze ended' : 'snoozed', ...(off ? {} : { text: `until ${until}` }) });
      ctx.services.store.save(stored);
      const note = stored.state === 'open' ? '' : ` (it is ${stored.state}: no reminders anyway)`;
      lines.push(off ? `#${stored.number}: reminders no longer held${note}` : `#${stored.number}: reminders held for ${formatDuration(ms)}, until ${until.slice(0, 16).replace('T', ' ')} UTC${note}`);
    }
    // Local bookkeeping, not news for peers: stored durably, no revision sent.
    await ctx.services.store.commit();
    ctx.reply(lines.join('\n'));
  },
});
