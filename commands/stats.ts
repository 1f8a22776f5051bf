import { defineCommand, UsageError } from '../src/triage/command.js';

export default defineCommand({
  name: 'stats',
  args: '',
  summary: 'counts incidents by state, trust and reporter, the outbox and the bot’s counters',
  access: 'admin',
  where: 'dm',
  run(ctx) {
    if (ctx.args.length) throw new UsageError('stats takes no arguments');
    // The store's maintained counters: O(1) whatever its size.
    const { total, byState, trusted, untrusted, topDomains: top } = ctx.services.store.counts();
    const counters = Object.entries(ctx.services.stats());
    ctx.reply(
      [
        `Incidents: ${total} (open ${byState.open}, acked ${byState.acked}, resolved ${byState.resolved})`,
        `From trusted senders: ${trusted}, untrusted: ${untrusted}`,
        `Top reporters: ${top.length ? top.map(([d, n]) => `${d} ${n}`).join(', ') : 'none'}`,
        `Outbox: ${ctx.services.outbox().length} owed to peers`,
        `Counters: ${counters.length ? counters.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}`,
      ].join('\n'),
    );
  },
});
