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
