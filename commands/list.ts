import { defineCommand, UsageError } from '../src/triage/command.js';
import { listLine, matchesFilter, prefixOf, replyLines, type ListFilter } from './_shared.js';

/** At most this many incidents in one !list answer. */
export const LIST_LIMIT = 50;

const FILTERS: readonly ListFilter[] = ['open', 'acked', 'resolved', 'all'];

const NONE: Record<ListFilter, string> = {
  open: 'No open incidents.',
  acked: 'No acknowledged incidents.',
  resolved: 'No resolved incidents.',
  all: 'No incidents.',
};

export default defineCommand({
  name: 'list',
  args: '[open|acked|resolved|all]',
  summary: 'lists incidents, newest first (default: open and acknowledged)',
  details: `open = not yet resolved (open or acknowledged); acked = acknowledged only. At most ${LIST_LIMIT} are listed.`,
  access: 'anyone',
  where: 'both',
  run(ctx) {
    if (ctx.args.length > 1) throw new UsageError('give at most one filter');
    const filter = (ctx.args[0] ?? 'open').toLowerCase() as ListFilter;
    if (!FILTERS.includes(filter)) throw new UsageError(`unknown filter '${ctx.args[0]}'`);
    const store = ctx.services.store;
    // Filtered on the in-memory index; only the incidents shown are loaded.
    const matching = store.summaries().filter((s) => matchesFilter(s.state, filter));
    if (matching.length === 0) {
      ctx.reply(NONE[filter]);
      return;
    }
    const lines = matching.slice(0, LIST_LIMIT).flatMap((s) => {
      const stored = store.getByNumber(s.number);
      return stored ? [listLine(stored)] : [];
    });
    const more = matching.length - LIST_LIMIT;
    if (more > 0) {
      const p = prefixOf(ctx.where);
      lines.push(`… and ${more} more (use ${p}show #N, or search${p ? ' in a direct message' : ''})`);
    }
    replyLines(ctx, lines);
  },
});
