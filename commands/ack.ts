import { acknowledge } from '../src/core/triage.js';
import { expandRefs, leadingRefCount, resolveRef } from '../src/triage/args.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { restAfter, settle } from './_shared.js';

export default defineCommand({
  name: 'ack',
  args: '<ref>… [note]',
  summary: 'acknowledges incidents (we are looking into them) and tells the peers that know them',
  details: 'Several references may be given (after the first, write them as #N, a range #8-#12, or a UUID); whatever follows them is a note recorded with each acknowledgement.',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    // The first word is always a reference; after it only `#N` and UUID prefixes count as more references, so a
    // note may start with a number ("!ack #3 2 servers down" acknowledges #3 only).
    const count = leadingRefCount(ctx.args);
    if (count === 0) throw new UsageError(ctx.args.length ? `'${ctx.args[0]}' is not an incident reference` : 'missing incident reference');
    const expanded = expandRefs(ctx.args.slice(0, count));
    if (!expanded.ok) throw new UsageError(expanded.message);
    const refs = expanded.refs;
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
