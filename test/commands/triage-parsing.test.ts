import { describe, expect, it } from 'vitest';
import { expandRefs, leadingRefCount, MAX_RANGE } from '../../src/triage/args.js';
import { formatDuration, parseDuration } from '../../src/triage/duration.js';
import { parseListArgs } from '../../src/triage/list-query.js';
import { isDue } from '../../src/xmpp/reminders.js';
import type { StoredIncident } from '../../src/core/store.js';

describe('durations', () => {
  it.each([
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '0m', '5', 'm', '31d', '2 h', 'soon'])('refuses %j', (text) => expect(parseDuration(text)).toBeUndefined());
  it('formats back', () => expect([formatDuration(5_400_000), formatDuration(86_400_000), formatDuration(60_000)]).toEqual(['1h 30m', '1d', '1m']));
});

describe('ranges', () => {
  it('spells out #8-#12 and 3-4, and refuses backwards or huge ranges', () => {
    expect(expandRefs(['#8-#12', '3-4', 'abcdef12'])).toEqual({ ok: true, refs: ['#8', '#9', '#10', '#11', '#12', '#3', '#4', 'abcdef12'] });
    expect(expandRefs(['#12-#8'])).toEqual({ ok: false, message: 'range #12-#8 goes backwards' });
    expect(expandRefs([`1-${MAX_RANGE + 1}`]).ok).toBe(false);
  });
  it('counts leading references: later bare numbers are text', () => {
    expect(leadingRefCount(['#8-#12', '#14', 'looking', 'at', 'it'])).toBe(2);
    expect(leadingRefCount(['3', '2', 'servers'])).toBe(1);
  });
});

describe('list filters', () => {
  it('reads states, severities, peers, domains, mine, unowned and pages', () => {
    const r = parseListArgs(['all', 'sev<=2', 'from:peer.example', 'from:bot@x.example', 'mine', 'page', '3'], 'alice@example.org');
    expect(r).toEqual({
      query: { states: ['open', 'acked', 'resolved'], severities: [1, 2], domains: ['peer.example'], peers: ['bot@x.example'], owners: ['alice@example.org'] },
      page: 3,
      described: 'all sev<=2 from:peer.example from:bot@x.example mine',
    });
    expect(parseListArgs(['unowned'], undefined)).toMatchObject({ query: { owners: ['-'] } });
    expect(parseListArgs(['sev>3'], undefined)).toMatchObject({ query: { severities: [4, 5] } });
    expect(parseListArgs(['closed'], undefined)).toEqual({ error: "unknown filter 'closed'" });
    expect(parseListArgs(['page', 'x'], undefined)).toEqual({ error: 'page needs a number (page 2)' });
    expect(parseListArgs(['mine'], undefined)).toEqual({ error: 'mine needs your real JID, which I cannot see here' });
  });
});

describe('reminders are due', () => {
  const reminders = { severeMinutes: 15, otherMinutes: 60, times: 3 };
  const at = Date.parse('2026-12-03T10:00:00Z');
  const incident = (over: Partial<StoredIncident> = {}, severity = 2) =>
    ({ state: 'open', trusted: true, receivedAt: '2026-12-03T10:00:00Z', incident: { severity }, ...over }) as unknown as StoredIncident;
  it('after the interval of its severity, up to `times`, never when acknowledged, untrusted or snoozed', () => {
    expect(isDue(incident(), reminders, at + 14 * 60_000)).toBe(false);
    expect(isDue(incident(), reminders, at + 15 * 60_000)).toBe(true);
    expect(isDue(incident({}, 4), reminders, at + 15 * 60_000)).toBe(false);
    expect(isDue(incident({ reminded: 1 }), reminders, at + 20 * 60_000)).toBe(false);
    expect(isDue(incident({ reminded: 1 }), reminders, at + 30 * 60_000)).toBe(true);
    expect(isDue(incident({ reminded: 3 }), reminders, at + 600 * 60_000)).toBe(false);
    expect(isDue(incident({ state: 'acked' }), reminders, at + 60 * 60_000)).toBe(false);
    expect(isDue(incident({ trusted: false }), reminders, at + 60 * 60_000)).toBe(false);
    expect(isDue(incident({ snoozedUntil: '2026-12-03T11:00:00Z' }), reminders, at + 30 * 60_000)).toBe(false);
  });
});
