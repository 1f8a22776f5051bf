import { defineCommand, UsageError } from '../src/triage/command.js';
import { arg, lookup } from './_shared.js';

const FORMATS = ['iodef', 'legacy', 'json'] as const;

export default defineCommand({
  name: 'export',
  args: '<ref> [iodef|legacy|json]',
  summary: 'the incident as the bot would send it (IODEF by default), or as stored (json)',
  access: 'admin',
  where: 'dm',
  run(ctx) {
    const ref = arg(ctx, 0, 'incident reference');
    if (ctx.args.length > 2) throw new UsageError('too many arguments');
    const wanted = (ctx.args[1] ?? 'iodef').toLowerCase();
    const format = FORMATS.find((f) => f === wanted);
    if (!format) throw new UsageError(`unknown format '${ctx.args[1]}'`);
    const stored = lookup(ctx, ref);
    if (!stored) return;
    ctx.reply(ctx.services.export(stored, format));
  },
});
