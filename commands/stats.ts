import { domainOf } from '../src/protocol/validate.js';
import { defineCommand, UsageError } from '../src/triage/command.js';

export default defineCommand({
  name: 'stats',
  args: '',
  summary: 'counts incidents by state, trust and reporter, the outbox and the bot’s counters',
  access: 'admin',
  where: 'dm',
  run(ctx) {
    if (ctx.args.length) throw new UsageError('stats takes no arguments');
    const all = ctx.services.store.summaries();
    const byState = { open: 0, acked: 0, resolved: 0 };
    const byDomain = new Map<string, number>();
    let trusted = 0;
    for (const s of all) {
      byState[s.state] += 1;
      if (s.trusted) trusted += 1;
      const domain = domainOf(s.from);
      byDomain.set(domain, (byDomain.get(domain) ?? 0) + 1);
    }
    const top = [...byDomain].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5);
    const counters = Object.entries(ctx.services.stats());
    ctx.reply(
      [
        `Incidents: ${all.length} (open ${byState.open}, acked ${byState.acked}, resolved ${byState.resolved})`,
        `From trusted senders: ${trusted}, untrusted: ${all.length - trusted}`,
        `Top reporters: ${top.length ? top.map(([d, n]) => `${d} ${n}`).join(', ') : 'none'}`,
        `Outbox: ${ctx.services.outbox().length} owed to peers`,
        `Counters: ${counters.length ? counters.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}`,
      ].join('\n'),
    );
  },
});
