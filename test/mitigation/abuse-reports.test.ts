import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml, { type Element } from '@xmpp/xml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncidentStore } from '../../src/core/store.js';
import { decodeAbuseReport, EVIDENCE_KEPT, fileAbuseReport, type AbuseReport } from '../../src/mitigation/abuse-reports.js';
import { abuseLine, abuseReporterTrusted, StormGate } from '../../src/mitigation/abuse-route.js';

function reportMessage(opts: { reason?: string; jid?: string; text?: string; body?: string; jidOutside?: boolean } = {}): Element {
  const jid = xml('jid', { xmlns: 'urn:xmpp:jid:0' }, opts.jid ?? 'Bot77@Evil.example/res');
  return xml(
    'message',
    { from: 'peer.example', to: 'incidents@home.example' },
    xml(
      'report',
      { xmlns: 'urn:xmpp:reporting:1', ...(opts.reason ? { reason: opts.reason } : {}) },
      ...(opts.text ? [xml('text', {}, opts.text)] : []),
      ...(opts.jidOutside ? [] : [jid]),
      ...(opts.body !== undefined
        ? [
            xml(
              'forwarded',
              { xmlns: 'urn:xmpp:forward:0' },
              xml('delay', { xmlns: 'urn:xmpp:delay', stamp: '2026-12-03T06:00:00Z' }),
              xml('message', { xmlns: 'jabber:client', from: 'bot77@evil.example/x' }, xml('body', {}, opts.body)),
            ),
          ]
        : []),
    ),
    ...(opts.jidOutside ? [jid] : []),
  );
}

describe('decodeAbuseReport', () => {
  it('reads reason, reported bare JID (lower-cased), text and the forwarded evidence', () => {
    const r = decodeAbuseReport(reportMessage({ reason: 'urn:xmpp:reporting:spam', text: 'ads', body: 'buy\nnow' })) as AbuseReport;
    expect(r).toEqual({
      jid: 'bot77@evil.example',
      reason: 'spam',
      text: 'ads',
      evidence: { sender: 'bot77@evil.example/x', stamp: '2026-12-03T06:00:00Z', text: 'buy now' },
    });
  });

  it('maps abuse, and anything else to other', () => {
    expect((decodeAbuseReport(reportMessage({ reason: 'urn:xmpp:reporting:abuse' })) as AbuseReport).reason).toBe('abuse');
    expect((decodeAbuseReport(reportMessage({ reason: 'urn:example:weird' })) as AbuseReport).reason).toBe('other');
    expect((decodeAbuseReport(reportMessage()) as AbuseReport).reason).toBe('other');
  });

  it('accepts the <jid/> beside the report, and refuses a report naming no JID or a bad one', () => {
    expect((decodeAbuseReport(reportMessage({ jidOutside: true })) as AbuseReport).jid).toBe('bot77@evil.example');
    const none = xml('message', {}, xml('report', { xmlns: 'urn:xmpp:reporting:1' }));
    expect(decodeAbuseReport(none)).toMatch(/names no JID/);
    expect(decodeAbuseReport(reportMessage({ jid: 'a@@b' }))).toMatch(/reported JID/);
  });
});

describe('fileAbuseReport: many reports about one JID are one incident', () => {
  let store: IncidentStore;
  beforeEach(async () => {
    store = await IncidentStore.open(join(mkdtempSync(join(tmpdir(), 'abuse-')), 'incidents.json'));
  });
  afterEach(() => store.close());

  const spam = (n: number): AbuseReport => ({ jid: 'bot77@evil.example', reason: 'spam', evidence: { text: `ad ${n}` } });

  it('groups: count, reporters once each, the last few pieces of evidence', async () => {
    const first = fileAbuseReport(store, spam(0), { from: 'a.example', trusted: true, at: '2026-12-03T06:00:00Z' });
    expect(first.change).toBe('new');
    expect(first.stored.incident.category).toBe('stanzas');
    expect(first.stored.incident.types).toEqual(['spam']);
    await store.commit();
    for (let i = 1; i < 14; i++) {
      const out = fileAbuseReport(store, spam(i), { from: ['a.example', 'b.example', 'c.example', 'd.example', 'e.example'][i % 5]!, trusted: true, at: '2026-12-03T06:01:00Z' });
      expect(out.change).toBe('grouped');
      expect(out.stored.number).toBe(first.stored.number);
      await store.commit();
    }
    const stored = store.getByNumber(first.stored.number)!;
    expect(stored.abuse!.count).toBe(14);
    expect(stored.abuse!.reporters).toHaveLength(5);
    expect(stored.abuse!.evidence.map((e) => e.text)).toEqual(['ad 9', 'ad 10', 'ad 11', 'ad 12', 'ad 13'].slice(-EVIDENCE_KEPT));
    expect(abuseLine(stored)).toMatch(new RegExp(`^#${stored.number} spam by bot77@evil.example — 14 reports from 5 servers`));
    expect(store.size).toBe(1);
  });

  it('a resolved incident, or another reason, starts a new one', async () => {
    const first = fileAbuseReport(store, spam(0), { from: 'a.example', trusted: true, at: '2026-12-03T06:00:00Z' });
    const abuse = fileAbuseReport(store, { jid: 'bot77@evil.example', reason: 'abuse' }, { from: 'a.example', trusted: true, at: '2026-12-03T06:00:00Z' });
    expect(abuse.change).toBe('new');
    first.stored.state = 'resolved';
    store.save(first.stored);
    await store.commit();
    expect(fileAbuseReport(store, spam(1), { from: 'a.example', trusted: true, at: '2026-12-03T06:02:00Z' }).change).toBe('new');
  });
});

describe('trust and storm window', () => {
  const config = { xmpp: { domain: 'home.example' }, peers: [{ jid: 'peer.example', trust: 'trusted' as const }] } as never;

  it('trusts the bot\'s own server and configured peers only, from the stanza\'s from', () => {
    expect(abuseReporterTrusted('home.example', config)).toBe(true);
    expect(abuseReporterTrusted('mallory@home.example', config)).toBe(false);
    expect(abuseReporterTrusted('peer.example', config)).toBe(true);
    expect(abuseReporterTrusted('evil.example', config)).toBe(false);
  });

  it('lets one line per incident through per window', () => {
    let t = 0;
    const gate = new StormGate(1000, () => t);
    expect(gate.pass(1)).toBe(true);
    expect(gate.pass(2)).toBe(true);
    t = 999;
    expect(gate.pass(1)).toBe(false);
    t = 1000;
    expect(gate.pass(1)).toBe(true);
  });
});
