import { setSeverity } from '../src/core/triage.js';
import { checkSeverity } from '../src/protocol/validate.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { lookup, settle } from './_shared.js';

export default defineCommand({
  name: 'severity',
  args: '<ref> <1-5>',
  summary: 'sets an incident’s severity (1 = most serious … 5 = least), and tells the peers that know it',
  details: '1–2 are IODEF high, 3 medium, 4–5 low.',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    if (ctx.args.length !== 2) throw new UsageError(ctx.args.length < 2 ? 'give a reference and a severity' : 'too many arguments');
    const severity = checkSeverity(ctx.args[1]!);
    if (typeof severity === 'string') throw new UsageError(severity);
    const stored = lookup(ctx, ctx.args[0]!);
    if (!stored) return;
    const outcome = setSeverity(stored, ctx.actor, ctx.services.now(), severity);
    ctx.reply(await settle(ctx, stored, outcome, 'severity'));
  },
});
