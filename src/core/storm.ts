/**
 * Storm grouping: when announcements pile up faster than the room should get lines, the backlog is folded into
 * one summary per sender domain ("12 new incidents from peer.example: #40–#51 — !list to see them").
 */
import { clip, line } from './flat-text.js';

export interface PendingAnnouncement {
  number: number;
  /** 'new', 'updated', … as a word for the summary. */
  change: string;
  /** The reporting peer's domain. */
  fromDomain: string;
  /** The whole announcement, or how to make it: during a storm most are folded and never need their text. */
  text: string | (() => string);
  /** When it was queued (monotonic ms), for the announcement latency. Set by the announcer. */
  queuedAt?: number;
}

const textOf = (p: PendingAnnouncement): string => (typeof p.text === 'string' ? p.text : p.text());

/** Below this many pending items each announcement is sent as is. */
export const GROUP_THRESHOLD = 3;

export function foldBacklog(pending: readonly PendingAnnouncement[], threshold = GROUP_THRESHOLD): string[] {
  return foldGroups(pending, threshold).map((g) => g.text);
}

/** One line of the folded backlog, with the announcements it stands for. */
export interface FoldedLine {
  text: string;
  items: PendingAnnouncement[];
}

/** Like foldBacklog, keeping which announcements each line covers (the announcer sends one and keeps the rest). */
export function foldGroups(pending: readonly PendingAnnouncement[], threshold = GROUP_THRESHOLD): FoldedLine[] {
  if (pending.length < threshold) return pending.map((p) => ({ text: textOf(p), items: [p] }));
  const groups = new Map<string, PendingAnnouncement[]>();
  for (const p of pending) {
    const key = `${p.change}\u0000${p.fromDomain}`;
    const list = groups.get(key) ?? [];
    list.push(p);
    groups.set(key, list);
  }
  return [...groups.values()].map((items) => {
    const first = items[0]!;
    if (items.length === 1) return { text: textOf(first), items };
    const numbers = [...new Set(items.map((i) => i.number))].sort((a, b) => a - b);
    return { text: line`${numbers.length} ${first.change} incidents from ${clip(first.fromDomain, 200)}: ${ranges(numbers)} — !list to see them`, items };
  });
}

/** [40,41,42,45] → "#40–#42, #45" */
export function ranges(numbers: readonly number[]): string {
  const out: string[] = [];
  let start = numbers[0];
  let prev = start;
  for (const n of [...numbers.slice(1), Number.NaN]) {
    if (start === undefined || prev === undefined) break;
    if (n === prev + 1) {
      prev = n;
      continue;
    }
    out.push(start === prev ? `#${start}` : `#${start}–#${prev}`);
    start = n;
    prev = n;
  }
  return out.join(', ');
}
