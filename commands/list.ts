import { defineCommand, UsageError } from '../src/triage/command.js';
import type { TriageState } from '../src/core/store.js';
import { listLine, prefixOf, replyLines, type ListFilter } from './_shared.js';

/** At most this many incidents in one !list answer. */
export const LIST_LIMIT = 50;

const FILTERS: readonly ListFilter[] = ['open', 'acked', 'resolved', 'all'];

/** The states each filter lists. */
const STATES: Record<ListFilter, TriageState[]> = {
  open: ['open', 'acked'],
  acked: ['acked'],
  resolved: ['resolved'],
  all: ['open', 'acked', 'resolved'],
};

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
    // The store's state index, newest first: only the incidents shown are read.
    const page = ctx.services.store.query({ states: STATES[filter], limit: LIST_LIMIT });
    if (page.incidents.length === 0 && page.damaged.length === 0) {
      ctx.reply(NONE[filter]);
      return;
    }
    const lines = page.incidents.map(listLine);
    for (const n of page.damaged) lines.push(`#${n}: damaged in the store (see the bot's log; incident-bot --check-store)`);
    if (page.more) {
      const p = prefixOf(ctx.where);
      const shown = page.incidents.length + page.damaged.length;
      lines.push(`… and ${page.total !== undefined ? `${page.total - shown} ` : ''}more (use ${p}show #N, or search${p ? ' in a direct message' : ''})`);
    }
    replyLines(ctx, lines);
  },
});
