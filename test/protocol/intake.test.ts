/**
 * Liberal intake (issue 12): what real peers send is understood, and what was odd is noted rather than refused.
 * The Metronome fixtures are stanzas captured from Metronome IM 4.0.5's mod_incidents_handling.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeIodef, findIodefPayload, INCIDENT_NS, IODEF_NS } from '../../src/protocol/iodef.js';
import { parseXml } from '../../src/protocol/xml.js';
import { ipsOf, jidsOf } from '../../src/protocol/incident.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/metronome');

function decodeFixture(name: string) {
  const iq = parseXml(readFileSync(path.join(fixtures, name), 'utf8').trim());
  if (!iq.ok) throw new Error(iq.error.message);
  const payload = findIodefPayload(iq.value)!;
  const result = decodeIodef(payload, { senderDomain: 'metronome.localhost' });
  if (!result.ok) throw new Error(`${result.error.path}: ${result.error.message}`);
  return result.value;
}

function decode(text: string, senderDomain?: string) {
  const el = parseXml(text);
  if (!el.ok) throw new Error(el.error.message);
  return decodeIodef(el.value, senderDomain ? { senderDomain } : {});
}

const report = (body: string, idAttrs = " name='peer.example'") =>
  `<report xmlns='${INCIDENT_NS}'><Incident xmlns='${IODEF_NS}'><IncidentID${idAttrs}>inc-1</IncidentID>${body}</Incident></report>`;

describe('Metronome 4.0.5, as captured on the wire', () => {
  it('report: understood whole — admin contact, counters, sources, targets, no purpose', () => {
    const { kind, incident } = decodeFixture('report.xml');
    expect(kind).toBe('report');
    expect(incident.id).toBe('6UyMqBho0toV4877');
    expect(incident.site).toBe('metronome.localhost');
    expect(incident.admins).toEqual(['admin@metronome.localhost']);
    expect(jidsOf(incident.sources)).toEqual(['spammer@evil.example']);
    expect(ipsOf(incident.sources)).toEqual(['192.0.2.7']);
    expect(incident.sources[0]!.counters).toEqual([{ type: 'message', value: 42 }]);
    expect(jidsOf(incident.targets)).toEqual(['victim@metronome.localhost']);
    expect(incident.targets[0]!.roles).toEqual(['client']);
    expect(incident.texts[0]!.text).toContain('spam wave');
    expect(incident.impact?.type).toBe('dos');
  });

  it('request: understood, with no Expectation', () => {
    const { kind, incident } = decodeFixture('request.xml');
    expect(kind).toBe('request');
    expect(incident.id).toBe('Wam9CLHNKEdX4877');
    expect(incident.admins).toEqual(['admin@metronome.localhost']);
    expect(incident.expectation).toBeUndefined();
  });

  it('inquiry without IncidentID@name: the site is the sender, and that is noted', () => {
    const { kind, incident, notes } = decodeFixture('inquiry.xml');
    expect(kind).toBe('inquiry');
    expect(incident.id).toBe('6UyMqBho0toV4877');
    expect(incident.site).toBe('metronome.localhost');
    expect(notes).toEqual(['Incident/IncidentID: IncidentID without name: site taken from the sender']);
  });
});

describe('intake decisions (what a real peer may send is kept)', () => {
  it("Impact type='ext-value' without ext-type: accepted, noted", () => {
    const result = decode(report(`<Assessment><Impact severity='high' type='ext-value'/></Assessment>`));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.incident.severity).toBeDefined();
    expect(result.value.notes).toEqual(["Incident/Assessment/Impact: type='ext-value' without ext-type"]);
  });

  it('a report without IncidentID@name takes the sender as site too', () => {
    const result = decode(report('', ''), 'peer.example');
    expect(result.ok && result.value.incident.site).toBe('peer.example');
  });

  it('<jid> in no namespace at all, or in the IODEF one, is an admin contact', () => {
    for (const jid of [`<jid xmlns=''>a@peer.example</jid>`, `<jid>a@peer.example</jid>`]) {
      const result = decode(report(`<Contact role='admin' type='person'><AdditionalData>${jid}</AdditionalData></Contact>`));
      expect(result.ok && result.value.incident.admins).toEqual(['a@peer.example']);
    }
  });

  it('dates that are not XEP-0082 are kept as text in the notes and not used', () => {
    const result = decode(report('<StartTime>01/05/2024 10:00</StartTime>'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.incident.times.begin).toBeUndefined();
    expect(result.value.notes?.[0]).toContain("'01/05/2024 10:00'");
  });

  it('an IP that does not parse is kept as text', () => {
    const result = decode(
      report(`<EventData><Flow><System category='source'><Node><Address category='ipv4-addr'>192.0.2.300</Address></Node></System></Flow></EventData>`),
    );
    expect(result.ok && result.value.incident.sources[0]!.addresses).toEqual([{ kind: 'other', category: 'ipv4-addr', value: '192.0.2.300' }]);
  });

  it('a document odd everywhere keeps at most 20 notes and counts the rest', () => {
    const many = Array.from({ length: 30 }, (_, i) => `<Description xml:lang='bad tag ${i}'>t${i}</Description>`).join('');
    const result = decode(report(many));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.notes).toHaveLength(21);
    expect(result.value.notes!.at(-1)).toBe('… and 10 more oddities');
    expect(result.value.incident.texts).toHaveLength(30);
  });

  it('still refuses what cannot be identified: no IncidentID text, no Incident, wrong wrapper namespace', () => {
    expect(decode(report('').replace('inc-1', '')).ok).toBe(false);
    expect(decode(`<report xmlns='${INCIDENT_NS}'/>`).ok).toBe(false);
    expect(decode(report('').replace(INCIDENT_NS, 'urn:xmpp:incident:1')).ok).toBe(false);
    // No name and no sender to take the site from: cannot be identified.
    expect(decode(report('', '')).ok).toBe(false);
  });
});

/**
 * Every refusal the IODEF decoder keeps (src/protocol/iodef-decode.ts, `bad(...)`; xml.ts for the document), each
 * with why no real peer sends it: these are what cannot be identified or is not what it claims.
 */
describe('refusals kept, one per decision', () => {
  const inc = (body: string, attrs = " name='peer.example'") =>
    `<Incident xmlns='${IODEF_NS}'><IncidentID${attrs}>${body}</IncidentID></Incident>`;
  const cases: Array<[string, string, string, string | undefined]> = [
    // Not XML, or over the size limits: nothing to understand (xml.ts, checkShape).
    ['not well-formed XML', `<report xmlns='${INCIDENT_NS}'><Incident`, 'not well-formed XML', undefined],
    ['nested beyond the depth limit', report(`${'<x>'.repeat(60)}${'</x>'.repeat(60)}`), 'nested too deeply', undefined],
    // A wrapper that is none of XEP-0268's: not what it claims.
    ['unknown wrapper', `<alert xmlns='${INCIDENT_NS}'>${inc('i')}</alert>`, 'is not an incident wrapper', undefined],
    ['wrapper in another namespace', report('').replace(INCIDENT_NS, 'urn:example:other'), `must be in namespace ${INCIDENT_NS}`, undefined],
    // Every implementation (Metronome included) sends exactly one Incident: none or two cannot be identified.
    ['no Incident', `<report xmlns='${INCIDENT_NS}'/>`, 'no IODEF <Incident>', undefined],
    ['two Incidents', `<report xmlns='${INCIDENT_NS}'>${inc('a')}${inc('b')}</report>`, 'exactly one <Incident>', undefined],
    ['Incident outside the IODEF namespace', `<report xmlns='${INCIDENT_NS}'><Incident><IncidentID name='p'>i</IncidentID></Incident></report>`, 'must be in namespace', undefined],
    // The id is the identity: without one, or with two, or unusable as a key, it cannot be identified.
    ['no IncidentID', `<report xmlns='${INCIDENT_NS}'><Incident xmlns='${IODEF_NS}'/></report>`, 'missing IncidentID', undefined],
    ['two IncidentIDs', `<report xmlns='${INCIDENT_NS}'><Incident xmlns='${IODEF_NS}'><IncidentID name='p'>a</IncidentID><IncidentID name='p'>b</IncidentID></Incident></report>`, 'exactly one IncidentID', undefined],
    ['empty IncidentID', report('').replace('inc-1', ''), 'IncidentID is empty', undefined],
    ['IncidentID of 10,000 characters', report('').replace('inc-1', 'x'.repeat(10_000)), 'longer than', undefined],
    ['IncidentID with a control character (a tab)', report('').replace('inc-1', 'a&#x9;b'), 'control characters', undefined],
    // No name and no sender to infer the site from (only possible in a test: a stanza always has a sender).
    ['IncidentID without name, sender unknown', report('', ''), 'needs a name', undefined],
  ];

  it.each(cases)('%s: bad-request with a path and a reason', (_name, text, reason, sender) => {
    const el = parseXml(text);
    const result = el.ok ? decodeIodef(el.value, sender ? { senderDomain: sender } : {}) : el;
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.path.length).toBeGreaterThan(0);
    expect(result.error.message).toContain(reason);
  });
});

/** What used to be refused and is now accepted with a note (a real peer sends it, or could). */
describe('refusals relaxed, one per decision', () => {
  const flow = (node: string) => `<EventData><Flow><System category='source'><Node>${node}</Node></System></Flow></EventData>`;
  const cases: Array<[string, string, string]> = [
    ['Impact ext-value without ext-type (RFC 5070: ext-type optional)', `<Assessment><Impact type='ext-value'/></Assessment>`, 'without ext-type'],
    ["ext-type spelled as the value (Metronome: type='ext-type')", `<Assessment><Impact type='ext-type' ext-type='spam'/></Assessment>`, ''],
    ['unknown Impact type', `<Assessment><Impact type='spamming'/></Assessment>`, 'spamming'],
    ['unknown purpose', '', ''],
    ['empty Description', '<Description/>', ''],
    ['StartTime not XEP-0082', '<StartTime>yesterday</StartTime>', "'yesterday'"],
    ['IPv4 that does not parse', flow(`<Address category='ipv4-addr'>999.1.1.1</Address>`), ''],
    ['empty Contact parts (Metronome)', `<Contact role='admin' type='person'><Email/><Telephone/><PostalAddress/></Contact>`, ''],
    ['empty RelatedActivity (Metronome)', '<RelatedActivity/>', ''],
  ];

  it.each(cases)('%s: accepted', (_name, body, noteText) => {
    const text = _name === 'unknown purpose' ? report(body).replace('<Incident ', "<Incident purpose='frobnicate' ") : report(body);
    const result = decode(text, 'peer.example');
    if (!result.ok) throw new Error(`${result.error.path}: ${result.error.message}`);
    expect(result.value.incident.id).toBe('inc-1');
    if (noteText) expect((result.value.notes ?? []).join('\n')).toContain(noteText);
  });
});
