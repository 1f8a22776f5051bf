import { clip, line } from '../src/core/flat-text.js';
import type { StoredIncident } from '../src/core/store.js';
import { formatIp, type NetworkNode } from '../src/protocol/incident.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { listLine, replyLines } from './_shared.js';

/** Incidents read between two turns of the event loop. */
const YIELD_EVERY = 500;

/** At most this many hits are listed. */
export const SEARCH_LIMIT = 20;

function addressTexts(nodes: readonly NetworkNode[]): string[] {
  return nodes.flatMap((n) =>
    n.addresses.flatMap((a) => (a.kind === 'ip' ? [a.value, formatIp(a.value, a.version, a.port)] : [a.value])),
  );
}

/** Every text of an incident a search looks at. */
function haystack(stored: StoredIncident): string[] {
  const i = stored.incident;
  return [
    i.id,
    i.site ?? '',
    stored.from,
    ...i.admins,
    ...addressTexts(i.sources),
    ...addressTexts(i.targets),
    ...i.solutions.flatMap((s) => [...addressTexts(s.sources), ...s.texts.map((t) => t.text)]),
    ...i.texts.map((t) => t.text),
    i.category ?? '',
    ...i.types,
  ];
}

export default defineCommand({
  name: 'search',
  args: '<jid|domain|ip|text>',
  summary: 'finds incidents whose addresses, reporter, admins, texts, category or id contain the words (any case)',
  access: 'admin',
  where: 'dm',
  async run(ctx) {
    const query = ctx.rest.trim().toLowerCase();
    if (!query) throw new UsageError('say what to look for');
    const hits: StoredIncident[] = [];
    let read = 0;
    for (const stored of ctx.services.store.all()) {
      if (haystack(stored).some((h) => h.toLowerCase().includes(query))) hits.push(stored);
      // A search reads every incident from the log: let reports keep being acknowledged meanwhile.
      if (++read % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    if (hits.length === 0) {
      ctx.reply(line`No incident matches '${clip(ctx.rest, 100)}'.`);
      return;
    }
    const lines = hits.slice(0, SEARCH_LIMIT).map(listLine);
    if (hits.length > SEARCH_LIMIT) lines.push(`… and ${hits.length - SEARCH_LIMIT} more matches; narrow the search`);
    replyLines(ctx, lines, SEARCH_LIMIT + 1);
  },
});
