/**
 * fitIncident / peerPayload: every payload owed to a peer, measured as the stanza that will carry it (serialised,
 * escaped, UTF-8, with the server's additions reserved), fits limits.maxStanzaBytes.
 */
import xml from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { clipText, shrinkIncident } from '../../src/core/fit-incident.js';
import { peerPayload, reportPayload } from '../../src/core/revisions.js';
import { STAMP_RESERVE_BYTES } from '../../src/core/stanza-size.js';
import { emptyIncident, type Incident, type NetworkNode } from '../../src/protocol/incident.js';
import { decodeIodef } from '../../src/protocol/iodef.js';
import { decodeLegacy } from '../../src/protocol/legacy.js';
import { parseXml } from '../../src/protocol/xml.js';

const LIMIT = 65536;
const TO = 'incidents@peer.example/bot';
const IQ = { to: TO, stanza: 'iq' as const, iqType: 'set' as const };

const jid = (value: string): NetworkNode => ({ addresses: [{ kind: 'jid', value }], counters: [], roles: [] });

function incident(over: Partial<Incident> = {}): Incident {
  return {
    ...emptyIncident('ba51a035-7710-4558-9bbf-34838a4c5b24', 'updated'),
    site: 'peer.example',
    admins: ['admin@peer.example'],
    category: 'muc',
    types: ['presence'],
    severity: 2,
    sources: [jid('spammer@abuse.lit')],
    texts: [{ lang: 'en', text: 'MUC flood' }],
    times: { begin: '2026-11-27T10:00:00Z' },
    ...over,
  };
}

/** The stanza as a server receives it: what delivery sends, with the longest id and a from address. */
function wireBytes(payload: string, stanza: 'iq' | 'message' = 'iq'): number {
  const parsed = parseXml(payload, { maxDepth: 24, maxElements: 5000, maxTextLength: LIMIT });
  if (!parsed.ok) throw new Error(parsed.error.message);
  const attrs = stanza === 'iq' ? { type: 'set', to: TO, id: 'x'.repeat(40) } : { to: TO };
  return Buffer.byteLength(xml(stanza, attrs, parsed.value).toString()) + STAMP_RESERVE_BYTES;
}

const ampTexts = () => ['en', 'de', 'fr', 'es', 'it', 'nl', 'sv'].map((lang) => ({ lang, text: '&'.repeat(8000) }));

describe('peerPayload', () => {
  it('leaves an incident that fits exactly as encoded', () => {
    const inc = incident();
    const fitted = peerPayload('report', inc, 'iodef', IQ, LIMIT);
    expect(fitted).toMatchObject({ shrunk: false, fits: true });
    expect(fitted.value).toBe(reportPayload(inc, 'iodef').toString());
  });

  it('a 56,000-character report of `&` (280 KB once escaped) becomes an answer under 64 KB, clipped with a marker', () => {
    const inc = incident({ texts: ampTexts() });
    expect(Buffer.byteLength(reportPayload(inc, 'iodef').toString())).toBeGreaterThan(4 * LIMIT);
    const fitted = peerPayload('report', inc, 'iodef', IQ, LIMIT);
    expect(fitted).toMatchObject({ shrunk: true, fits: true });
    expect(wireBytes(fitted.value)).toBeLessThanOrEqual(LIMIT);
    // Not clipped more than needed: most of the budget is used.
    expect(wireBytes(fitted.value)).toBeGreaterThan(LIMIT * 0.8);
    const parsed = parseXml(fitted.value, { maxDepth: 24, maxElements: 5000, maxTextLength: LIMIT });
    if (!parsed.ok) throw new Error(parsed.error.message);
    const decoded = decodeIodef(parsed.value);
    if (!decoded.ok) throw new Error(decoded.error.message);
    const { incident: got } = decoded.value;
    expect(got.id).toBe(inc.id);
    expect(got.site).toBe(inc.site);
    expect(got.status).toBe('updated');
    expect(got.texts).toHaveLength(7);
    expect(got.texts[0]!.text).toMatch(/^&+…\[\d+ characters clipped\]$/);
  });

  it('folds long lists and says what was left out in the English text', () => {
    const sources = Array.from({ length: 1000 }, (_, n) => jid(`s${n}@abuse.lit/${'&'.repeat(200)}`));
    const inc = incident({ sources });
    const fitted = peerPayload('report', inc, 'iodef', IQ, LIMIT);
    expect(fitted.fits).toBe(true);
    expect(wireBytes(fitted.value)).toBeLessThanOrEqual(LIMIT);
    expect(fitted.incident.sources.length).toBeLessThan(1000);
    expect(fitted.incident.sources[0]).toEqual(sources[0]);
    expect(fitted.incident.texts[0]!.text).toMatch(/\[left out to fit the stanza size limit: \d+ sources\]$/);
  });

  it('fits a legacy message too', () => {
    const inc = incident({ texts: ampTexts(), history: [{ action: 'status-triage', time: '2026-11-27T11:00:00Z', who: 'alice@home.example', texts: [{ text: '<&>'.repeat(3000) }] }] });
    const fitted = peerPayload('report', inc, 'legacy', { to: TO, stanza: 'message' }, LIMIT);
    expect(fitted.fits).toBe(true);
    expect(wireBytes(fitted.value, 'message')).toBeLessThanOrEqual(LIMIT);
    const parsed = parseXml(fitted.value, { maxDepth: 24, maxElements: 5000, maxTextLength: LIMIT });
    expect(parsed.ok && decodeLegacy(parsed.value).ok).toBe(true);
  });

  it('says when even the smallest form cannot fit', () => {
    // What is never shrunk: the id, the site, one JID of each list, the discussion room.
    const long = `x@y.example/${'&'.repeat(1000)}`;
    const inc = incident({ room: `room@conference.example/${'&'.repeat(1000)}`, admins: [long], sources: [jid(long)], targets: [jid(long)] });
    const fitted = peerPayload('report', inc, 'iodef', IQ, 8192);
    expect(fitted.fits).toBe(false);
    expect(fitted.bytes).toBeGreaterThan(8192);
  });
});

describe('shrinkIncident', () => {
  it('never touches identity, and keeps the latest history items', () => {
    const inc = incident({
      history: Array.from({ length: 10 }, (_, n) => ({ action: 'status-new-info', time: `2026-11-27T10:0${n}:00Z`, texts: [{ text: `step ${n}` }] })),
    });
    const small = shrinkIncident(inc, { text: 64, items: 3 });
    expect(small.id).toBe(inc.id);
    expect(small.site).toBe(inc.site);
    expect(small.history.map((h) => h.texts[0]!.text)).toEqual(['step 7', 'step 8', 'step 9']);
    expect(small.texts[0]!.text).toMatch(/7 history items\]$/);
  });

  it('clips without cutting a character in two', () => {
    expect(clipText('ab😀cd', 3)).toBe('ab…[4 characters clipped]');
    expect(clipText('abc', 3)).toBe('abc');
  });
});
