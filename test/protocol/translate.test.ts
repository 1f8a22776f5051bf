import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate as isUuid, version as uuidVersion } from 'uuid';
import { describe, expect, it } from 'vitest';
import { emptyIncident, type Incident, type Severity } from '../../src/protocol/incident.js';
import { decodeIodef, encodeIodef, findIodefPayload } from '../../src/protocol/iodef.js';
import { decodeLegacy, encodeLegacy, findLegacyPayload } from '../../src/protocol/legacy.js';
import { fromIodefSeverity, toIodefSeverity } from '../../src/protocol/severity.js';
import { LEGACY_ID_NAMESPACE, legacyIdFor, toLegacy } from '../../src/protocol/translate.js';
import type { Decoded } from '../../src/protocol/validate.js';
import { parseXml, type Element } from '../../src/protocol/xml.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function parsed(text: string): Element {
  const r = parseXml(text);
  if (!r.ok) throw new Error(`test input does not parse: ${r.error.path}: ${r.error.message}`);
  return r.value;
}

function value<T>(r: Decoded<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.path}: ${r.error.message}`);
  return r.value;
}

function legacyFixture(name: string): Incident {
  const message = parsed(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'legacy', `${name}.xml`), 'utf8'));
  const payload = findLegacyPayload(message);
  if (!payload) throw new Error(`${name} has no legacy payload`);
  return value(decodeLegacy(payload, { site: String(message.attrs.from) }));
}

/** What a legacy peer decodes from what we send it. */
function overLegacyWire(incident: Incident): Incident {
  return value(decodeLegacy(parsed(encodeLegacy(incident).toString()), { site: incident.site }));
}

describe('legacyIdFor', () => {
  const uuid = '4BF5D2CE-7C90-4860-BEF2-43A7D777D5FF';

  it('is the identity for a UUID id, keeping its case', () => {
    expect(legacyIdFor({ id: uuid, site: 'jabber.org' })).toBe(uuid);
    expect(legacyIdFor({ id: uuid.toLowerCase(), site: 'jabber.org' })).toBe(uuid.toLowerCase());
    expect(legacyIdFor({ id: uuid })).toBe(uuid);
  });

  it('derives a UUIDv5 for a non-UUID IODEF id', () => {
    const id = legacyIdFor({ id: 'jabber.org-2024-0001', site: 'jabber.org' });
    expect(isUuid(id)).toBe(true);
    expect(uuidVersion(id)).toBe(5);
    expect(id).not.toBe(LEGACY_ID_NAMESPACE);
  });

  it('is stable: the same (site, id) always gives the same UUID, across runs and releases', () => {
    const a = legacyIdFor({ id: 'incident 42', site: 'jabber.org' });
    expect(legacyIdFor({ id: 'incident 42', site: 'jabber.org' })).toBe(a);
    // Pinned (checked with Python's uuid.uuid5): a change would stop legacy peers recognising updates.
    expect(a).toBe('2e52a167-ba5c-54e1-b458-676e50edb2ad');
  });

  it('depends on both halves of the pair, the site case-insensitively, the id exactly', () => {
    const base = legacyIdFor({ id: 'incident 42', site: 'jabber.org' });
    expect(legacyIdFor({ id: 'incident 42', site: 'JABBER.org' })).toBe(base);
    expect(legacyIdFor({ id: 'incident 42', site: 'example.org' })).not.toBe(base);
    expect(legacyIdFor({ id: 'Incident 42', site: 'jabber.org' })).not.toBe(base);
    expect(legacyIdFor({ id: 'incident 42' })).not.toBe(base);
  });
});

describe('toLegacy', () => {
  it('leaves an incident decoded from legacy unchanged (both XEP examples)', () => {
    for (const name of ['v0.2-report', 'v0.3-solution']) {
      const incident = legacyFixture(name);
      expect(toLegacy(incident)).toStrictEqual(incident);
    }
  });

  it('is idempotent and is exactly what a legacy peer decodes from encodeLegacy', () => {
    const incident: Incident = {
      ...emptyIncident('response-7', 'resolved'),
      site: 'clueless.lit',
      purpose: 'mitigation',
      admins: ['admin@clueless.lit'],
      room: 'ops@muc.clueless.lit',
      category: 'reg',
      types: ['bulk-registration'],
      severity: 1,
      sources: [
        {
          addresses: [
            { kind: 'ip', value: '203.0.113.5', version: 4, port: 5222 },
            { kind: 'jid', value: 'bot1@clueless.lit' },
          ],
          counters: [{ type: 'xmpp-presence', value: 5 }],
          roles: [],
        },
      ],
      texts: [{ text: 'mass registrations', lang: 'en' }, { text: 'no language' }],
      times: { begin: '2024-01-01T00:00:00Z', end: null, report: '2024-01-01T01:00:00Z', detect: '2024-01-01T00:10:00Z' },
      history: [{ action: 'block-host', time: '2024-01-01T02:00:00Z', who: 'admin@clueless.lit', texts: [] }],
      solutions: [{ texts: [{ text: 'accounts disabled', lang: 'en' }], sources: [] }],
    };
    const legacy = toLegacy(incident);
    expect(toLegacy(legacy)).toStrictEqual(legacy);
    expect(overLegacyWire(incident)).toStrictEqual(legacy);
    expect(legacy.status).toBe('resolved');
    expect(legacy.sources.map((n) => n.addresses)).toEqual([
      [{ kind: 'jid', value: 'bot1@clueless.lit' }],
      [{ kind: 'ip', value: '203.0.113.5', version: 4, port: 5222 }],
    ]);
    expect(legacy.times).toStrictEqual({ begin: '2024-01-01T00:00:00Z', end: null, report: '2024-01-01T01:00:00Z' });
    for (const key of ['purpose', 'impact', 'expectation'] as const) expect(key in legacy).toBe(false);
    expect(legacy.history).toEqual([]);
  });

  it("derives the status as legacy decoding does: 'resolved' needs a solution, everything else reads as 'new'", () => {
    expect(toLegacy(emptyIncident('7B2A1B8C-0E0B-4D5C-9B1F-2B7A36D1C0A1', 'resolved')).status).toBe('new');
    expect(toLegacy(emptyIncident('7B2A1B8C-0E0B-4D5C-9B1F-2B7A36D1C0A1', 'updated')).status).toBe('new');
  });

  it('keeps the severity band across IODEF and back (1–2 high, 3 medium, 4–5 low)', () => {
    const band = (s: Severity) => (s <= 2 ? 'high' : s === 3 ? 'medium' : 'low');
    for (const s of [1, 2, 3, 4, 5] as const) {
      const back = fromIodefSeverity(toIodefSeverity(s));
      expect(band(back)).toBe(band(s));
      const incident = { ...emptyIncident('7B2A1B8C-0E0B-4D5C-9B1F-2B7A36D1C0A1'), severity: back };
      expect(overLegacyWire(incident).severity).toBe(back);
    }
  });
});

function iodefReportText(): string {
  return readFileSync(path.join(repoRoot, 'test', 'fixtures', 'iodef', 'v0.6-report.xml'), 'utf8');
}

/** The model of an IODEF `<iq>` stanza's report. */
function decodeIodefStanza(text: string): Incident {
  const payload = findIodefPayload(parsed(text));
  if (!payload) throw new Error('no IODEF payload');
  const envelope = value(decodeIodef(payload));
  expect(envelope.kind).toBe('report');
  return envelope.incident;
}

/** Through IODEF and back: encodeIodef('report') → serialise → parse → decodeIodef. */
function overIodefWire(incident: Incident): Incident {
  const envelope = value(decodeIodef(parsed(encodeIodef('report', incident).toString())));
  return envelope.incident;
}

/** The legacy report example with what its example leaves out: IP sources with ports, a solution. */
function richLegacy(): Incident {
  const report = legacyFixture('v0.2-report');
  report.sources.push(
    { addresses: [{ kind: 'ip', value: '192.0.2.1', version: 4, port: 53667 }], counters: [], roles: [] },
    { addresses: [{ kind: 'ip', value: '2001:db8::1', version: 6, port: 5222 }], counters: [], roles: [] },
    { addresses: [{ kind: 'ip', value: '198.51.100.4', version: 4 }], counters: [], roles: [] },
  );
  report.solutions = legacyFixture('v0.3-solution').solutions;
  report.status = 'resolved';
  return overLegacyWire(report); // exactly as a legacy stanza would carry it
}

describe('cross-format: legacy → IODEF → legacy', () => {
  it('the report example keeps every legacy field through IODEF', () => {
    const original = legacyFixture('v0.2-report');
    const back = overLegacyWire(toLegacy(overIodefWire(original)));
    expect(back).toStrictEqual(original);
    // Spelled out, so a failure says which field was lost.
    expect(back.admins).toEqual(['stpeter@jabber.org']);
    expect(back.room).toBe('operators@conference.jabber.org');
    expect([back.category, back.types]).toEqual(['muc', ['presence', 'long-messages']]);
    expect(back.targets).toEqual(original.targets);
    expect(back.sources).toEqual(original.sources);
    expect(back.related).toEqual([{ id: '133BCE2E-E669-4ECE-B0F8-766B9E65630D' }]);
    expect(back.severity).toBe(2);
    expect(back.texts).toEqual([{ text: 'lots of MUC spammers from abuse.lit!', lang: 'en' }]);
    expect(back.times).toEqual(original.times);
  });

  it('IP sources with ports (v4 and v6) and solutions survive the trip', () => {
    const original = richLegacy();
    const back = overLegacyWire(toLegacy(overIodefWire(original)));
    expect(back.sources).toEqual(original.sources);
    expect(back.solutions).toEqual(original.solutions);
    expect(back.status).toBe('resolved');
    expect(back).toStrictEqual(original);
  });

  it('every legacy severity comes back in its band', () => {
    for (const severity of [1, 2, 3, 4, 5] as const) {
      const original = { ...legacyFixture('v0.2-report'), severity };
      const back = overLegacyWire(toLegacy(overIodefWire(original)));
      expect(toIodefSeverity(back.severity!)).toBe(toIodefSeverity(severity));
    }
  });

  // IODEF has no form for "still happening": encodeIodef writes no EndTime, so the empty legacy <end/> becomes
  // "no end said" after a trip through IODEF (documented in the README's format mapping).
  it('an empty <end/> (still happening) becomes an unsaid end through IODEF', () => {
    const original = { ...richLegacy(), times: { begin: '2009-04-13T19:05:20Z', end: null } };
    const back = overLegacyWire(toLegacy(overIodefWire(original)));
    expect(back.times).toStrictEqual({ begin: '2009-04-13T19:05:20Z' });
  });
});

describe('cross-format: the IODEF v0.6 report example as a legacy peer receives it', () => {
  it('keeps what legacy can carry', () => {
    const iodef = decodeIodefStanza(iodefReportText());
    const legacy = toLegacy(iodef);
    const received = overLegacyWire(iodef);
    expect(received).toStrictEqual(legacy);
    expect(received).toStrictEqual({
      ...emptyIncident('4BF5D2CE-7C90-4860-BEF2-43A7D777D5FF', 'new'),
      site: 'jabber.org',
      admins: ['stpeter@jabber.org'],
      room: 'operators@muc.xmpp.org',
      severity: 3,
      sources: [
        { addresses: [{ kind: 'jid', value: 'abuser@clueless.lit' }], counters: [], roles: [] },
        { addresses: [{ kind: 'jid', value: 'luser27@clueless.lit' }], counters: [], roles: [] },
      ],
      targets: [
        {
          addresses: [
            { kind: 'jid', value: 'jdev@conference.jabber.org' },
            { kind: 'jid', value: 'jabber@conference.jabber.org' },
          ],
          counters: [],
          roles: [],
        },
      ],
      related: [{ id: '133BCE2E-E669-4ECE-B0F8-766B9E65630D' }],
      texts: [{ text: 'lots of MUC spammers from clueless.lit!', lang: 'en' }],
      times: { begin: '2009-04-13T19:05:20Z', end: '2009-04-13T19:27:22Z', report: '2009-04-13T19:31:07Z' },
    });
  });

  it.each([
    ['high', 2],
    ['medium', 3],
    ['low', 4],
  ] as const)('IODEF severity %s ↔ legacy %i', (iodefSeverity, legacySeverity) => {
    const text = iodefReportText().replace("severity='medium'", `severity='${iodefSeverity}'`);
    const received = overLegacyWire(decodeIodefStanza(text));
    expect(received.severity).toBe(legacySeverity);
    // And back: the legacy value goes out to IODEF as the same word.
    expect(encodeIodef('report', received).toString()).toContain(`severity="${iodefSeverity}"`);
  });

  it('a non-UUID IODEF id goes out as a stable UUIDv5; a UUID id as itself', () => {
    const text = iodefReportText().replace('>4BF5D2CE-7C90-4860-BEF2-43A7D777D5FF<', '>jabber.org/2009/0413-muc<');
    const first = overLegacyWire(decodeIodefStanza(text));
    const second = overLegacyWire(decodeIodefStanza(text));
    expect(isUuid(first.id)).toBe(true);
    expect(first.id).toBe(legacyIdFor({ id: 'jabber.org/2009/0413-muc', site: 'jabber.org' }));
    expect(second.id).toBe(first.id);
    expect(overLegacyWire(decodeIodefStanza(iodefReportText())).id).toBe('4BF5D2CE-7C90-4860-BEF2-43A7D777D5FF');
  });
});
