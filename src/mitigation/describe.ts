/** The `!show` lines for an incident's abuse-report tally and block-list entries (peer text flattened and clipped). */
import { clip, line } from '../core/flat-text.js';
import type { StoredIncident } from '../core/store.js';
import { jidsOf } from '../protocol/incident.js';
import type { FollowedLists } from './rtbl-follow.js';

/** `Listed: x on rtbl.example/muc_bans_sha256 since …` for each JID source on a followed block list. */
export function listedLines(stored: StoredIncident, lists: FollowedLists | undefined): string[] {
  if (!lists) return [];
  return jidsOf(stored.incident.sources).flatMap((jid) =>
    lists.listingsOf(jid).map((l) => line`Listed: ${clip(jid, 200)} on ${clip(l.list, 300)} since ${l.since}`),
  );
}

export function mitigationLines(stored: StoredIncident): string[] {
  const lines: string[] = [];
  const tally = stored.abuse;
  if (tally) {
    lines.push(line`Abuse reports: ${tally.count} about ${clip(tally.jid, 200)} (${tally.reason}) from ${clip(tally.reporters.join(', '), 400)}`);
    for (const e of tally.evidence) {
      const sender = e.sender ? line` ${clip(e.sender, 200)}` : '';
      const stamp = e.stamp ? line` at ${clip(e.stamp, 40)}` : '';
      lines.push(line`  evidence (via ${clip(e.reporter, 200)})${sender}${stamp}: ${clip(e.text ?? '(no text)', 300)}`);
    }
  }
  for (const b of stored.blocks ?? []) {
    const state = b.state === 'published' ? 'blocked' : line`unblocked by ${clip(b.retractedBy ?? '?', 200)} at ${clip(b.retractedAt ?? '?', 40)}`;
    lines.push(line`Block list: ${clip(b.target, 200)} — ${state} (published by ${clip(b.by, 200)} at ${clip(b.at, 40)})`);
  }
  return lines;
}
