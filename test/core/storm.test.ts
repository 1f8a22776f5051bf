import { describe, expect, it } from 'vitest';
import { foldBacklog, GROUP_THRESHOLD, ranges, type PendingAnnouncement } from '../../src/core/storm.js';

function item(number: number, change = 'new', fromDomain = 'peer.example'): PendingAnnouncement {
  return { number, change, fromDomain, text: `#${number} ${change.toUpperCase()} from ${fromDomain}` };
}

describe('foldBacklog', () => {
  it('passes texts through unchanged below the threshold', () => {
    const pending = [item(1), item(2)];
    expect(pending.length).toBeLessThan(GROUP_THRESHOLD);
    expect(foldBacklog(pending)).toEqual(['#1 NEW from peer.example', '#2 NEW from peer.example']);
  });

  it('an empty backlog gives nothing', () => {
    expect(foldBacklog([])).toEqual([]);
  });

  it('folds a same-domain, same-change backlog into one summary', () => {
    const pending = [item(40), item(41), item(42), item(43)];
    expect(foldBacklog(pending)).toEqual(['4 new incidents from peer.example: #40–#43 — !list to see them']);
  });

  it('folds per (change, domain), in order of first appearance; a lone item keeps its text', () => {
    const pending = [
      item(1, 'new', 'peer.example'),
      item(2, 'updated', 'peer.example'),
      item(3, 'new', 'peer.example'),
      item(4, 'new', 'other.example'),
      item(5, 'new', 'peer.example'),
      item(7, 'updated', 'peer.example'),
    ];
    expect(foldBacklog(pending)).toEqual([
      '3 new incidents from peer.example: #1, #3, #5 — !list to see them',
      '2 updated incidents from peer.example: #2, #7 — !list to see them',
      '#4 NEW from other.example',
    ]);
  });

  it('sorts numbers and counts each incident once', () => {
    const pending = [item(12), item(10), item(11), item(10)];
    expect(foldBacklog(pending)).toEqual(['3 new incidents from peer.example: #10–#12 — !list to see them']);
  });

  it('honours a custom threshold', () => {
    const pending = [item(1), item(2), item(3), item(4)];
    expect(foldBacklog(pending, 10)).toEqual(pending.map((p) => p.text));
    expect(foldBacklog(pending.slice(0, 2), 2)).toEqual(['2 new incidents from peer.example: #1–#2 — !list to see them']);
  });
});

describe('ranges', () => {
  it('collapses runs and keeps gaps', () => {
    expect(ranges([40, 41, 42, 45])).toBe('#40–#42, #45');
    expect(ranges([1, 2, 4, 5, 7])).toBe('#1–#2, #4–#5, #7');
  });

  it('singletons stay single', () => {
    expect(ranges([5])).toBe('#5');
    expect(ranges([1, 3, 5])).toBe('#1, #3, #5');
  });

  it('a run at the end is closed', () => {
    expect(ranges([3, 7, 8, 9])).toBe('#3, #7–#9');
  });

  it('an empty list gives an empty string', () => {
    expect(ranges([])).toBe('');
  });
});
