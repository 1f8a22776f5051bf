/**
 * How decodeIodef finds child elements: namespaces as ltx resolves them (prefixes, inherited and empty xmlns,
 * hand-assembled trees) and the positions in error paths. The decoder indexes each element's children once and
 * works namespaces out from the parent's; these cases pin that it still answers as a walk up the tree would.
 */
import { describe, it, expect } from 'vitest';
import xml from '@xmpp/xml';
import { checkShape, parseXml, type Element } from '../../src/protocol/xml.js';
import { decodeIodef, findIodefPayload, INCIDENT_NS, IODEF_NS, JID_NS } from '../../src/protocol/iodef.js';
import type { Incident } from '../../src/protocol/incident.js';

function report(body: string): string {
  return (
    `<report xmlns='${INCIDENT_NS}'><Incident xmlns='${IODEF_NS}' purpose='reporting'>` +
    `<IncidentID name='jabber.org'>inc-1</IncidentID>${body}</Incident></report>`
  );
}

function parsed(text: string): Element {
  const result = parseXml(text);
  if (!result.ok) throw new Error(`${result.error.path}: ${result.error.message}`);
  return result.value;
}

function incidentOf(el: Element): Incident {
  const result = decodeIodef(el);
  if (!result.ok) throw new Error(`${result.error.path}: ${result.error.message}`);
  return result.value.incident;
}

/** The intake notes of a document that is accepted (liberal intake: odd parts are noted, not refused). */
function notesOf(el: Element): string[] {
  const result = decodeIodef(el);
  if (!result.ok) throw new Error(`${result.error.path}: ${result.error.message}`);
  return result.value.notes ?? [];
}

function errorOf(el: Element): { path: string; message: string } {
  const result = decodeIodef(el);
  if (result.ok) throw new Error('expected a decode failure');
  return result.error;
}

describe('decodeIodef child lookups', () => {
  it('numbers a child in a path among the children in the namespace looked for', () => {
    const contact =
      `<Contact role='admin'><AdditionalData><jid xmlns='urn:evil'>x</jid>` +
      `<jid xmlns='${JID_NS}'>a@b</jid><jid xmlns='${JID_NS}'>bad@@</jid></AdditionalData></Contact>`;
    expect(notesOf(parsed(report(contact)))).toEqual([
      "Incident/Contact/AdditionalData/jid[2]: 'bad@@' is not a valid JID: forbidden character in domain; left out",
    ]);
  });

  it('numbers siblings of the same name', () => {
    const systems =
      `<EventData><Flow><System category='source'><Node><Address category='ipv4-addr'>1.2.3.4</Address></Node>` +
      `</System><System category='target'><Node><Address category='ipv4-addr'>1.2.3</Address></Node></System>` +
      `</Flow></EventData>`;
    expect(notesOf(parsed(report(systems)))[0]).toMatch(/^Incident\/EventData\/Flow\/System\[2\]\/Node\/Address: /);
  });

  it('resolves prefixed names through their prefix, and unprefixed ones through the default namespace', () => {
    const text =
      `<report xmlns='${INCIDENT_NS}'><i:Incident xmlns:i='${IODEF_NS}' purpose='reporting'>` +
      `<i:IncidentID name='a'>1</i:IncidentID><i:Description>hi</i:Description>` +
      `<Description>in the wrapper's namespace, not IODEF</Description></i:Incident></report>`;
    const incident = incidentOf(parsed(text));
    expect(incident.id).toBe('1');
    expect(incident.texts).toEqual([{ text: 'hi' }]);

    const unprefixedId =
      `<report xmlns='${INCIDENT_NS}'><i:Incident xmlns:i='${IODEF_NS}'>` +
      `<IncidentID name='a'>1</IncidentID></i:Incident></report>`;
    expect(errorOf(parsed(unprefixedId))).toEqual({
      path: 'report/Incident',
      message: 'missing IncidentID (required by RFC 5070)',
    });
  });

  it("treats an empty xmlns as ltx does: the parent's namespace carries on", () => {
    const incident = incidentOf(parsed(report(`<Description xmlns=''>still IODEF</Description>`)));
    expect(incident.texts).toEqual([{ text: 'still IODEF' }]);
  });

  it('asks an element whose parent pointer is elsewhere (a hand-assembled tree) for its own namespace', () => {
    const adopted = xml('Description', {}, 'adopted');
    xml('x', { xmlns: 'urn:evil' }, adopted); // now adopted.parent is <x xmlns='urn:evil'/>
    const incident = xml('Incident', { xmlns: IODEF_NS }, xml('IncidentID', { name: 'a' }, '1'));
    const el = xml('report', { xmlns: INCIDENT_NS }, incident);
    incident.children.push(adopted);
    expect(incidentOf(el).texts).toEqual([]);
  });

  it('finds the payload among other children', () => {
    const iq = parsed(`<iq><x xmlns='urn:example'/>text<report xmlns='${INCIDENT_NS}'/></iq>`);
    expect(findIodefPayload(iq)?.getName()).toBe('report');
  });
});

describe('checkShape', () => {
  it('names the element that breaks a limit by the names as written, prefixes included', () => {
    const tree = parsed(`<a:r xmlns:a='x'><b><a:c><d/></a:c></b></a:r>`);
    expect(checkShape(tree, { maxDepth: 3, maxElements: 100, maxTextLength: 10 })).toEqual({
      path: 'a:r/b/a:c/d',
      message: 'nested too deeply (more than 3 levels)',
    });
  });
});
