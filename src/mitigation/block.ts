/**
 * `!block` / `!unblock` decisions: what would be blocked (listed first, confirmed second, since one line may
 * block a whole server), what is refused (admins, the operator's own server), and applying a decision — the block
 * records, the incident's timeline and an IODEF HistoryItem `block-host` (so the revision tells the peers), and
 * the owed publish/retract stanzas, all in one commit.
 */
import type { Config } from '../core/config.js';
import { editableIncident, type StoredIncident } from '../core/store.js';
import { jidsOf } from '../protocol/incident.js';
import { bareJid, domainOf } from '../protocol/validate.js';
import type { TriageServices } from '../triage/context.js';
import type { BlockRecord } from './abuse-tally.js';
import { normaliseTarget, oweRtbl, publishPayload, retractPayload, rtblHash } from './rtbl.js';

/** A plan waits this long for its `confirm`. */
export const CONFIRM_WINDOW_MS = 10 * 60_000;

export interface BlockPlan {
  number: number;
  targets: string[];
  by: string;
  madeAt: number;
}

/** Plans waiting for `!block <ref> confirm`, per store (one bot, one store). */
const plans = new WeakMap<object, Map<number, BlockPlan>>();

function plansOf(owner: object): Map<number, BlockPlan> {
  let map = plans.get(owner);
  if (!map) plans.set(owner, (map = new Map()));
  return map;
}

/** Why a target must not be blocked, or undefined. */
export function refusal(target: string, config: Pick<Config, 'admins' | 'xmpp'>): string | undefined {
  const isDomain = !target.includes('@');
  for (const admin of config.admins) {
    const a = bareJid(admin).toLowerCase();
    if (a === target) return `${target} is an admin of this bot`;
    if (isDomain && domainOf(a) === target) return `${target} is the server of admin ${a}`;
  }
  const own = config.xmpp.domain.toLowerCase();
  if (target === own || (isDomain && own.endsWith(`.${target}`))) return `${target} is this bot's own server`;
  return undefined;
}

/** The targets named (or the incident's JID sources), normalised; or why not. */
export function planTargets(stored: StoredIncident, named: readonly string[], config: Pick<Config, 'admins' | 'xmpp'>): { targets: string[] } | { error: string } {
  // The incident's sources may be full JIDs (a resource): mod_muc_rtbl blocks by bare JID.
  const raw = named.length > 0 ? [...named] : jidsOf(stored.incident.sources).map(bareJid);
  if (raw.length === 0) return { error: `#${stored.number} names no JID source: say what to block, e.g. !block #${stored.number} spammer@evil.example` };
  const targets: string[] = [];
  for (const value of raw) {
    const t = normaliseTarget(value);
    if (typeof t !== 'string') return { error: t.error };
    const why = refusal(t, config);
    if (why) return { error: `refused: ${why}; nothing blocked` };
    if (!targets.includes(t)) targets.push(t);
  }
  return { targets };
}

export function rememberPlan(owner: object, plan: BlockPlan): void {
  plansOf(owner).set(plan.number, plan);
}

/** The plan waiting for this incident, if still fresh; taken (a confirm applies it once). */
export function takePlan(owner: object, number: number, now: number): BlockPlan | undefined {
  const map = plansOf(owner);
  const plan = map.get(number);
  map.delete(number);
  return plan && now - plan.madeAt <= CONFIRM_WINDOW_MS ? plan : undefined;
}

/** Applies a confirmed block: returns the peers the revision was owed to. */
export async function applyBlock(services: TriageServices, stored: StoredIncident, targets: readonly string[], by: string): Promise<string[]> {
  const rtbl = services.config.rtbl!;
  const at = services.now();
  const reason = stored.abuse?.reason ?? stored.incident.types[0] ?? 'spam';
  const blocks = (stored.blocks ??= []);
  for (const target of targets) {
    const existing = blocks.find((b) => b.target === target && b.state === 'published');
    if (existing) continue;
    blocks.push({ target, hash: rtblHash(target), by, at, state: 'published' });
    oweRtbl(services.store, rtbl, publishPayload(rtbl, target, stored, reason), stored, `publish ${target}`);
  }
  record(stored, at, by, `rtbl block of ${targets.join(' ')} on ${rtbl.service}/${rtbl.node}`, 'blocked');
  return services.revise(stored, 'blocked');
}

/** Retracts the published blocks of an incident, or the ones for `target`. */
export async function applyUnblock(services: TriageServices, stored: StoredIncident, by: string, target?: string): Promise<{ targets: string[]; peers: string[] }> {
  const rtbl = services.config.rtbl!;
  const at = services.now();
  const lifted: BlockRecord[] = (stored.blocks ?? []).filter((b) => b.state === 'published' && (target === undefined || b.target === target));
  for (const b of lifted) {
    b.state = 'retracted';
    b.retractedBy = by;
    b.retractedAt = at;
    oweRtbl(services.store, rtbl, retractPayload(rtbl, b.target), stored, `retract ${b.target}`);
  }
  if (lifted.length === 0) return { targets: [], peers: [] };
  const targets = lifted.map((b) => b.target);
  record(stored, at, by, `rtbl unblock of ${targets.join(' ')} on ${rtbl.service}/${rtbl.node}`, 'unblocked');
  return { targets, peers: await services.revise(stored, 'unblocked') };
}

/** On the timeline, and as an IODEF HistoryItem the revision carries to the peers. */
function record(stored: StoredIncident, at: string, by: string, text: string, action: string): void {
  stored.timeline.push({ at, who: by, action, text });
  editableIncident(stored).history.push({ action: 'block-host', time: at, who: bareJid(by), texts: [{ text }] });
  stored.updatedAt = at;
}

/** The incident holding a published block of `target`, newest first (via the search index: history texts). */
export function findBlocked(services: TriageServices, target: string): StoredIncident | undefined {
  return blockedIncidents(services).find((s) => s.blocks?.some((b) => b.target === target && b.state === 'published'));
}

/** Incidents with RTBL blocks (published or retracted), newest first. */
export function blockedIncidents(services: TriageServices): StoredIncident[] {
  return services.store.search('rtbl', { limit: 200 }).incidents.filter((s) => (s.blocks?.length ?? 0) > 0);
}
