import { clip, line } from '../src/core/flat-text.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { listLine, replyLines } from './_shared.js';

/** At most this many hits are listed. */
export const SEARCH_LIMIT = 20;

export default defineCommand({
  name: 'search',
  args: '<ip|jid|domain|word> …',
  summary: 'finds incidents by IP address, JID, domain (with its subdomains) or word, newest first',
  details:
    'Every term must match (any case). An IP matches source, target and solution addresses; a JID or domain also ' +
    'matches the reporter, the admins and addresses written in the texts; a word matches texts, category, types and ids.',
  access: 'admin',
  where: 'dm',
  run(ctx) {
    const query = ctx.rest.trim();
    if (!query) throw new UsageError('say what to look for');
    // The store's search index: the cost is the hits shown, whatever the store's size.
    const page = ctx.services.store.search(query, { limit: SEARCH_LIMIT });
    if (page.terms.length === 0) throw new UsageError('say what to look for (words of two or more letters or digits)');
    if (page.incidents.length === 0 && page.damaged.length === 0) {
      ctx.reply(line`No incident matches '${clip(query, 100)}'.`);
      return;
    }
    const lines = page.incidents.map(listLine);
    for (const n of page.damaged) lines.push(`#${n}: damaged in the store (see the bot's log; incident-bot --check-store)`);
    if (page.more) lines.push(`… and more matches; narrow the search`);
    replyLines(ctx, lines, SEARCH_LIMIT + 1);
  },
});
