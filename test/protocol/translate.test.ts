import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate as isUuid, version as uuidVersion } from 'uuid';
import { describe, expect, it } from 'vitest';
import { emptyIncident, type Incident, type Severity } from '../../src/protocol/incident.js';
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
