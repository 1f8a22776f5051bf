import { acknowledge } from '../src/core/triage.js';
import { looksLikeRef, resolveRef } from '../src/triage/args.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { restAfter, settle } from './_shared.js';

export default defineCommand({
  name: 'ack',
  args: '<ref>… [note]',
  summary: 'acknowledges incidents (we are looking into them) and tells the peers that know them',
  details: 'Several references may be given (after the first, write them as #N or a UUID); whatever follows them is a note recorded with each acknowledgement.',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    // The first word is always a reference; after it only `#N` and UUID prefixes count as more references, so a
    // note may start with a number ("!ack #3 2 servers down" acknowledges #3 only).
    let count = ctx.args.length && looksLikeRef(ctx.args[0]!) ? 1 : 0;
    while (count > 0 && count < ctx.args.length && looksLikeRef(ctx.args[count]!) && !/^\d+$/.test(ctx.args[count]!)) count++;
    if (count === 0) throw new UsageError(ctx.args.length ? `'${ctx.args[0]}' is not an incident reference` : 'missing incident reference');
    const refs = ctx.args.slice(0, count);
    const note = restAfter(ctx.rest, count) || undefined;
    const lines: string[] = [];
    for (const ref of refs) {
      const found = resolveRef(ctx.services.store, ref);
      if (!found.ok) {
        lines.push(found.message);
        continue;
      }
      const outcome = acknowledge(found.stored, ctx.actor, ctx.services.now(), note);
      lines.push(await settle(ctx, found.stored, outcome, 'acknowledged'));
    }
    ctx.reply(lines.join('\n'));
  },
});
