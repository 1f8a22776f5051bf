import { solve } from '../src/core/triage.js';
import type { Address } from '../src/protocol/incident.js';
import { addressOf, splitOptions } from '../src/triage/args.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { arg, lookup, settle } from './_shared.js';

export default defineCommand({
  name: 'solve',
  args: '<ref> <text…> [ip=ADDR[:PORT]]… [jid=JID]…',
  summary: 'marks an incident resolved with what fixed it, and tells the peers that know it',
  details: 'ip= and jid= name the sources the solution identified (e.g. the abuser), each may be repeated.',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    const ref = arg(ctx, 0, 'incident reference');
    const { options, words } = splitOptions(ctx.args.slice(1), ['ip', 'jid']);
    const text = words.join(' ').trim();
    if (!text) throw new UsageError('say what solved it');
    const sources: Address[] = [];
    for (const [key, value] of options) {
      const address = addressOf(key, value);
      if (typeof address === 'string') {
        ctx.reply(`${key}=: ${address}; nothing changed`);
        return;
      }
      sources.push(address);
    }
    const stored = lookup(ctx, ref);
    if (!stored) return;
    const outcome = solve(stored, ctx.actor, ctx.services.now(), text, sources);
    ctx.reply(await settle(ctx, stored, outcome, 'resolved'));
  },
});
