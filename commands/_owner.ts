/** Shared by take, assign and release: applying an owner change to several references. */
import { setOwner } from '../src/core/triage.js';
import { expandRefs, leadingRefCount, resolveRef } from '../src/triage/args.js';
import { UsageError } from '../src/triage/command.js';
import type { CommandContext } from '../src/triage/context.js';
import { settle } from './_shared.js';

/** The references at the start of the arguments, ranges spelled out; a UsageError when there is none. */
export function refsOf(ctx: CommandContext, args: readonly string[] = ctx.args): string[] {
  const count = leadingRefCount(args);
  if (count === 0) throw new UsageError(args.length ? `'${args[0]}' is not an incident reference` : 'missing incident reference');
  const expanded = expandRefs(args.slice(0, count));
  if (!expanded.ok) throw new UsageError(expanded.message);
  return expanded.refs;
}

export async function changeOwner(ctx: CommandContext, refs: readonly string[], owner: string | undefined): Promise<void> {
  const lines: string[] = [];
  for (const ref of refs) {
    const found = resolveRef(ctx.services.store, ref);
    if (!found.ok) {
      lines.push(found.message);
      continue;
    }
    lines.push(await settle(ctx, found.stored, setOwner(found.stored, ctx.actor, ctx.services.now(), owner), owner ? 'owner set' : 'released'));
  }
  ctx.reply(lines.join('\n'));
}
