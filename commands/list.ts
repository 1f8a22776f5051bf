import { defineCommand, UsageError } from '../src/triage/command.js';
import { parseListArgs } from '../src/triage/list-query.js';
import { listLine, prefixOf, replyLines } from './_shared.js';

/** At most this many incidents per page: a room is shared, a direct message is yours. */
export const ROOM_PAGE = 15;
export const DM_PAGE = 50;

export default defineCommand({
  name: 'list',
  args: '[open|acked|resolved|all] [sev<=N] [from:PEER] [mine|unowned] [page N]',
  summary: 'lists incidents, newest first, one line each with state, severity, owner and age (default: not resolved)',
  details: `open = not yet resolved (open or acknowledged); acked = acknowledged only. sev<=2, sev>=3, sev=1 filter by severity; from:peer.example or from:jid@peer.example by reporter; mine = owned by you, unowned = nobody's. ${ROOM_PAGE} per page in a room, ${DM_PAGE} in a direct message.`,
  access: 'anyone',
  where: 'both',
  run(ctx) {
    const request = parseListArgs(ctx.args, ctx.sender.jid?.toLowerCase());
    if ('error' in request) throw new UsageError(request.error);
    const perPage = ctx.where.kind === 'room' ? ROOM_PAGE : DM_PAGE;
    // The store's facet indexes, newest first: only the incidents up to this page are read.
    const page = ctx.services.store.query({ ...request.query, limit: perPage * request.page });
    const skip = perPage * (request.page - 1);
    const shown = page.incidents.slice(skip);
    if (shown.length === 0 && page.damaged.length === 0) {
      ctx.reply(request.page > 1 ? `No page ${request.page} (${request.described}).` : `No incidents (${request.described}).`);
      return;
    }
    const now = Date.now();
    const lines = shown.map((s) => listLine(s, now));
    for (const n of page.damaged) lines.push(`#${n}: damaged in the store (see the bot's log; incident-bot --check-store)`);
    if (page.more) {
      const p = prefixOf(ctx.where);
      const total = page.total !== undefined ? `${page.total - skip - shown.length} ` : '';
      const filters = ctx.args.filter((word, i, all) => word.toLowerCase() !== 'page' && all[i - 1]?.toLowerCase() !== 'page');
      lines.push(`… ${total}more: ${[`${p}list`, ...filters, `page ${request.page + 1}`].join(' ')}`);
    }
    replyLines(ctx, lines);
  },
});
