/**
 * Helpers shared by the command files: looking up references, applying a triage outcome, peers, list lines and
 * splitting long replies. Not a command itself (index.ts lists the commands).
 */
import type { PeerConfig } from '../src/core/config.js';
import { classification } from '../src/core/announce.js';
import { clip, line } from '../src/core/flat-text.js';
import type { StoredIncident } from '../src/core/store.js';
import type { TriageOutcome } from '../src/core/triage.js';
import { ipsOf, jidsOf, pickText } from '../src/protocol/incident.js';
import { bareJid, domainOf } from '../src/protocol/validate.js';
import { resolveRef } from '../src/triage/args.js';
import { ageOf } from '../src/triage/list-query.js';
import { UsageError } from '../src/triage/command.js';
import type { CommandContext, Where } from '../src/triage/context.js';

/** At most this many lines in one chat message. */
export const LINES_PER_MESSAGE = 20;

/** The command prefix to show in hints: `!` in the room, nothing in a DM. */
export function prefixOf(where: Where): string {
  return where.kind === 'room' ? '!' : '';
}

/** The incident a reference names, or undefined after replying why there is none. */
export function lookup(ctx: CommandContext, token: string): StoredIncident | undefined {
  const found = resolveRef(ctx.services.store, token);
  if (found.ok) return found.stored;
  ctx.reply(found.message);
  return undefined;
}

/** The n-th argument, or a UsageError naming what is missing. */
export function arg(ctx: CommandContext, index: number, what: string): string {
  const value = ctx.args[index];
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}

/** What was typed after the first `n` arguments, with its own spacing and line breaks. */
export function restAfter(rest: string, n: number): string {
  let s = rest.trim();
  for (let i = 0; i < n; i++) s = s.replace(/^\S+\s*/, '');
  return s.trim();
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `— revision queued for 2 peers` / `— no peer to tell`. */
export function revisionNote(peers: readonly string[]): string {
  return peers.length === 0 ? '— no peer to tell' : `— revision queued for ${plural(peers.length, 'peer')}`;
}

/**
 * Applies a triage outcome: a refusal is reported and nothing else happens; a change is committed and the
 * revision owed to peers (services.revise). Returns the reply line.
 */
export async function settle(ctx: CommandContext, stored: StoredIncident, outcome: TriageOutcome, purpose: string): Promise<string> {
  if (!outcome.ok) return outcome.message;
  const peers = await ctx.services.revise(stored, purpose);
  return `${outcome.message} ${revisionNote(peers)}`;
}

/** Where to tell the asker about an answer that comes later: the room, or the admin's own JID in a DM. */
export function notifyTarget(where: Where): string {
  return where.kind === 'room' ? where.room : where.from;
}

/** Local and domain parts compare case-insensitively; the resource is compared exactly. */
function normaliseJid(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid.toLowerCase() : `${jid.slice(0, slash).toLowerCase()}${jid.slice(slash)}`;
}

/** The configured peer entry whose `jid` is exactly `name` (bare part case-insensitive). */
export function configuredPeer(peers: readonly PeerConfig[], name: string): PeerConfig | undefined {
  const wanted = normaliseJid(name);
  return peers.find((p) => normaliseJid(p.jid) === wanted);
}

/** A configured, trusted peer — or undefined after replying why `name` is not one. */
export function trustedPeer(ctx: CommandContext, name: string): PeerConfig | undefined {
  const peers = ctx.services.config.peers;
  const peer = configuredPeer(peers, name);
  if (!peer) {
    const known = peers.length ? peers.map((p) => p.jid).join(', ') : 'none';
    ctx.reply(line`unknown peer ${clip(name, 80)}; configured peers: ${known}`);
    return undefined;
  }
  if (peer.trust !== 'trusted') {
    ctx.reply(`${peer.jid} is not a trusted peer: refused`);
    return undefined;
  }
  return peer;
}

/** Our own bare JID (the bot's account). */
export function selfBareJid(ctx: CommandContext): string {
  const { username, domain } = ctx.services.config.xmpp;
  return `${username}@${domain}`.toLowerCase();
}

/** `#N *open* sev 2 muc: presence — spammer@… · owner alice@… · 5 min ago (from peer.example)` and the untrusted flag. */
export function listLine(stored: StoredIncident, now = Date.now()): string {
  const i = stored.incident;
  const source = jidsOf(i.sources)[0] ?? ipsOf(i.sources)[0];
  const text = pickText(i.texts);
  const detail = source !== undefined ? line` — ${clip(source, 80)}` : text !== undefined ? line` — ${clip(text, 60)}` : '';
  const from = domainOf(stored.from) || bareJid(stored.from);
  const owner = i.owner ? line` · owner ${clip(i.owner, 80)}` : '';
  const snoozedUntil = stored.state === 'open' ? Date.parse(stored.snoozedUntil ?? '') : Number.NaN;
  const snoozed = snoozedUntil > now ? ` · snoozed until ${new Date(snoozedUntil).toISOString().slice(11, 16)} UTC` : '';
  // XEP-0393 styling: *state* is bold in clients that render it and still reads plainly in those that do not.
  return line`#${stored.number} *${stored.state}* sev ${i.severity ?? '?'} ${classification(i)}${detail}${owner}${snoozed} · ${ageOf(stored.receivedAt, now)} (from ${clip(from, 80)})${stored.trusted ? '' : ' ⚠ UNTRUSTED'}`;
}

/** Sends lines as several messages of at most LINES_PER_MESSAGE lines each. */
export function replyLines(ctx: CommandContext, lines: readonly string[], perMessage = LINES_PER_MESSAGE): void {
  for (let start = 0; start < lines.length; start += perMessage) {
    ctx.reply(lines.slice(start, start + perMessage).join('\n'));
  }
}
