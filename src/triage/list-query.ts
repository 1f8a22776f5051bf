/**
 * `!list` arguments → a store query: a state word (`open`, `acked`, `resolved`, `all`), `sev<=2` / `sev>=3` /
 * `sev=1`, `from:<peer JID or domain>`, `mine`, `unowned`, and `page N`. Pure, unit-tested.
 */
import type { Severity } from '../protocol/incident.js';
import type { ListQuery } from '../core/store-query.js';
import type { TriageState } from '../core/store.js';
import { NO_OWNER } from '../core/store-index.js';
import { checkJid } from '../protocol/validate.js';

const STATE_WORDS: Record<string, TriageState[]> = {
  open: ['open', 'acked'],
  acked: ['acked'],
  resolved: ['resolved'],
  all: ['open', 'acked', 'resolved'],
};

export interface ListRequest {
  query: Omit<ListQuery, 'limit' | 'before'>;
  page: number;
  /** The filters as typed, for "no incidents matching …". */
  described: string;
}

export function parseListArgs(args: readonly string[], me: string | undefined): ListRequest | { error: string } {
  const query: ListRequest['query'] = { states: STATE_WORDS.open };
  let page = 1;
  const said: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!.toLowerCase();
    const sev = /^sev(?:erity)?(<=|>=|=|<|>)([1-5])$/.exec(token);
    if (STATE_WORDS[token]) query.states = STATE_WORDS[token];
    else if (sev) query.severities = severities(sev[1]!, Number(sev[2]));
    else if (token.startsWith('from:')) {
      const peer = token.slice(5);
      if (!peer || checkJid(peer) !== undefined) return { error: `'${args[i]}' is not from:<peer JID or domain>` };
      if (peer.includes('@')) query.peers = [...(query.peers ?? []), peer];
      else query.domains = [...(query.domains ?? []), peer];
    } else if (token === 'mine') {
      if (!me) return { error: 'mine needs your real JID, which I cannot see here' };
      query.owners = [me];
    } else if (token === 'unowned') query.owners = [NO_OWNER];
    else if (token === 'page') {
      const n = Number(args[i + 1]);
      if (!Number.isInteger(n) || n < 1) return { error: 'page needs a number (page 2)' };
      page = n;
      i++;
      continue;
    } else return { error: `unknown filter '${args[i]}'` };
    said.push(token);
  }
  return { query, page, described: said.join(' ') || 'open' };
}

function severities(op: string, n: number): Severity[] {
  const all: Severity[] = [1, 2, 3, 4, 5];
  if (op === '<=') return all.filter((s) => s <= n);
  if (op === '<') return all.filter((s) => s < n);
  if (op === '>=') return all.filter((s) => s >= n);
  if (op === '>') return all.filter((s) => s > n);
  return all.filter((s) => s === n);
}

/** "3 min ago", "2 h ago", "4 d ago" (relative to `now`). */
export function ageOf(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const min = Math.max(0, Math.round(ms / 60_000));
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}
