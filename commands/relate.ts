import { relate } from '../src/core/triage.js';
import { checkUuid } from '../src/protocol/validate.js';
import { resolveRef } from '../src/triage/args.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { lookup, settle } from './_shared.js';

export default defineCommand({
  name: 'relate',
  args: '<ref> <ref|uuid>',
  summary: 'records that an incident is related to another (ours, or any UUID), and tells the peers that know it',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    if (ctx.args.length !== 2) throw new UsageError(ctx.args.length < 2 ? 'give two references' : 'too many arguments');
    const stored = lookup(ctx, ctx.args[0]!);
    if (!stored) return;
    const token = ctx.args[1]!;
    const other = resolveRef(ctx.services.store, token);
    let target: { id: string; site?: string };
    let label: string;
    if (other.ok) {
      const i = other.stored.incident;
      target = { id: i.id, ...(i.site ? { site: i.site } : {}) };
      label = `#${other.stored.number}`;
    } else if (checkUuid(token) === undefined) {
      target = { id: token.toLowerCase() };
      label = token.toLowerCase();
    } else {
      ctx.reply(other.message);
      return;
    }
    const outcome = relate(stored, ctx.actor, ctx.services.now(), target, label);
    ctx.reply(await settle(ctx, stored, outcome, 'related'));
  },
});
