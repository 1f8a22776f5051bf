import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import xml, { Element as XmppElement } from '@xmpp/xml';
import { parseXml, type Element } from '../../src/protocol/xml.js';
import { emptyIncident, type Incident } from '../../src/protocol/incident.js';
import type { Decoded } from '../../src/protocol/validate.js';
import {
  INCIDENT_NS,
  IODEF_NS,
  JID_NS,
  decodeIodef,
  encodeIodef,
  findIodefPayload,
  type IodefEnvelope,
} from '../../src/protocol/iodef.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixturesDir = path.join(repoRoot, 'test', 'fixtures', 'iodef');
// The XEP sources, copied into the repository so the check runs everywhere (never skipped).
const specDir = path.resolve(repoRoot, 'test', 'fixtures', 'spec');

const V06_FIXTURES = ['v0.6-report', 'v0.6-inquiry', 'v0.6-request', 'v0.6-response'] as const;
const ALL_WELL_FORMED = [...V06_FIXTURES, 'v0.4-report-repaired'] as const;

function fixture(name: string): string {
  return readFileSync(path.join(fixturesDir, `${name}.xml`), 'utf8');
}

function parsed(text: string): Element {
  const result = parseXml(text);
  if (!result.ok) throw new Error(`fixture does not parse: ${result.error.path}: ${result.error.message}`);
  return result.value;
}

function payloadOf(name: string): Element {
  const payload = findIodefPayload(parsed(fixture(name)));
  if (!payload) throw new Error(`no IODEF payload in ${name}`);
  return payload;
}

function decoded(el: Element): IodefEnvelope {
  const result = decodeIodef(el);
  if (!result.ok) throw new Error(`decode failed: ${result.error.path}: ${result.error.message}`);
  return result.value;
}

function decodedFixture(name: string): IodefEnvelope {
  return decoded(payloadOf(name));
}

/** Model → XML → model, through the text form too (what actually goes over the wire). */
function reencoded(envelope: IodefEnvelope): IodefEnvelope {
  return decoded(parsed(encodeIodef(envelope.kind, envelope.incident).toString()));
}

/** Parses text (failures of the parser count as decode failures) and decodes the root. */
function decodeText(text: string): Decoded<IodefEnvelope> {
  const result = parseXml(text);
  return result.ok ? decodeIodef(result.value) : result;
}

function expectFailure(result: Decoded<unknown>, path: string, message: string | RegExp): void {
  expect(result.ok, 'expected a decode failure').toBe(false);
  if (result.ok) return;
  expect(result.error.path).toBe(path);
  if (typeof message === 'string') expect(result.error.message).toContain(message);
  else expect(result.error.message).toMatch(message);
}

/** The CDATA body of every <example> in a spec file, verbatim apart from the surrounding blank space. */
function specExamples(file: string): string[] {
  const text = readFileSync(path.join(specDir, file), 'utf8');
  return [...text.matchAll(/<example caption="[^"]*"><!\[CDATA\[([\s\S]*?)\]\]><\/example>/g)].map((m) =>
    (m[1] ?? '').trim(),
  );
}

/** A minimal valid report around `body` (children of Incident after IncidentID). */
function report(body: string, wrapperAttrs = ''): string {
  return (
    `<report xmlns='${INCIDENT_NS}'${wrapperAttrs}><Incident xmlns='${IODEF_NS}' purpose='reporting'>` +
    `<IncidentID name='jabber.org'>inc-1</IncidentID>${body}</Incident></report>`
  );
}

function flow(systems: string): string {
  return `<EventData><Flow>${systems}</Flow></EventData>`;
}

function sourceNode(node: string, systemExtra = ''): string {
  return flow(`<System category='source'><Node>${node}</Node>${systemExtra}</System>`);
}

const FLOW_NODE = 'report/Incident/EventData/Flow/System/Node';

// ───────────────────────────────────── the XEP's own examples ─────────────────────────────────────

describe('XEP-0268 examples (fixtures copied verbatim from the spec)', () => {
  it('fixtures equal the examples in the spec files', () => {
    const v04 = specExamples('xep-0268-v0.4.xml');
    const v06 = specExamples('xep-0268-v0.6.xml');
    expect(v04).toHaveLength(1);
    expect(v06).toHaveLength(4);
    expect(fixture('v0.4-report').trim()).toBe(v04[0]);
    V06_FIXTURES.forEach((name, i) => expect(fixture(name).trim()).toBe(v06[i]));
  });

  it('the repaired v0.4 fixture differs from the verbatim one only by its comment and the two repairs', () => {
    const verbatim = fixture('v0.4-report');
    const repaired = fixture('v0.4-report-repaired').replace(/^<!--[\s\S]*?-->\n/, '');
    const undone = repaired
      .replace("id='vk2x91g47' to=", "id='vk2x91g47 to=")
      .replace('      </info>\n    </EventData>\n', '');
    expect(undone).toBe(verbatim);
  });

  for (const name of ALL_WELL_FORMED) {
    it(`${name}: decode → encode → decode gives the same model`, () => {
      const first = decodedFixture(name);
      const second = reencoded(first);
      expect(second).toStrictEqual(first);
      // And once more from our own output: encoding is stable.
      expect(encodeIodef(second.kind, second.incident).toString()).toBe(
        encodeIodef(first.kind, first.incident).toString(),
      );
    });
  }

  it('v0.4 verbatim: the example is not well-formed and says so', () => {
    const result = decodeText(fixture('v0.4-report'));
    expectFailure(result, '/', /^not well-formed XML: Incomplete document/);
  });

  it('v0.4 repaired: a bare <Incident> in the IQ decodes as a report', () => {
    const iq = parsed(fixture('v0.4-report-repaired'));
    const payload = findIodefPayload(iq);
    expect(payload?.getName()).toBe('Incident');
    const { kind, incident } = decoded(payload!);
    expect(kind).toBe('report');
    expect(incident.status).toBe('new');
    expect(incident.id).toBe('4BF5D2CE-7C90-4860-BEF2-43A7D777D5FF');
    expect(incident.site).toBe('jabber.org');
    // jid in urn:xmpp:incident:2 (v0.4) is read, and the duplicate admin is merged
    expect(incident.admins).toEqual(['stpeter@jabber.org']);
    expect(incident.room).toBe('operators@muc.xmpp.org');
    // the legacy-style <info> inside EventData
    expect(incident.category).toBe('muc');
    expect(incident.types).toEqual(['presence', 'long-messages']);
    expect(incident.sources.map((n) => n.addresses)).toEqual([
      [{ kind: 'jid', value: 'abuser@abuse.lit' }],
      [{ kind: 'jid', value: 'luser27@abuse.lit' }],
    ]);
  });

  it('v0.6 report: values match the example', () => {
    const { kind, incident } = decodedFixture('v0.6-report');
    expect(kind).toBe('report');
    expect(incident).toMatchObject({
      id: '4BF5D2CE-7C90-4860-BEF2-43A7D777D5FF',
      site: 'jabber.org',
      status: 'new',
      purpose: 'reporting',
      admins: ['stpeter@jabber.org'],
      room: 'operators@muc.xmpp.org',
      severity: 3,
      impact: { type: 'dos', completion: 'succeeded', lang: 'en' },
      related: [{ id: '133BCE2E-E669-4ECE-B0F8-766B9E65630D', site: 'im.example.com' }],
      texts: [{ text: 'lots of MUC spammers from clueless.lit!', lang: 'en' }],
      times: { begin: '2009-04-13T19:05:20Z', end: '2009-04-13T19:27:22Z', report: '2009-04-13T19:31:07Z' },
    });
    expect(incident.sources).toEqual([
      {
        addresses: [{ kind: 'jid', value: 'abuser@clueless.lit' }],
        counters: [{ type: 'xmpp-presence', value: 123 }],
        roles: [],
      },
      {
        addresses: [{ kind: 'jid', value: 'luser27@clueless.lit' }],
        counters: [{ type: 'xmpp-presence', value: 47 }],
        roles: [],
      },
    ]);
    expect(incident.targets).toEqual([
      {
        addresses: [
          { kind: 'jid', value: 'jdev@conference.jabber.org' },
          { kind: 'jid', value: 'jabber@conference.jabber.org' },
        ],
        counters: [],
        roles: ['xmpp-muc'],
      },
    ]);
    expect(incident.expectation).toBeUndefined();
    expect(incident.history).toEqual([]);
    expect(incident.category).toBeUndefined();
  });

  it('v0.6 inquiry: just the incident id and a traceback purpose', () => {
    const { kind, incident } = decodedFixture('v0.6-inquiry');
    expect(kind).toBe('inquiry');
    expect(incident).toStrictEqual({
      ...emptyIncident('4BF5D2CE-7C90-4860-BEF2-43A7D777D5FF'),
      site: 'jabber.org',
      purpose: 'traceback',
    });
  });

  it('v0.6 request: expectation block-host', () => {
    const { kind, incident } = decodedFixture('v0.6-request');
    expect(kind).toBe('request');
    expect(incident.purpose).toBe('mitigation');
    expect(incident.expectation).toEqual({ action: 'block-host', texts: [] });
  });

  it("v0.6 response: the history item keeps the example's non-RFC action", () => {
    const { kind, incident } = decodedFixture('v0.6-response');
    expect(kind).toBe('response');
    expect(incident.expectation).toEqual({ action: 'block-host', texts: [] });
    expect(incident.history).toEqual([
      { action: 'blockquote', time: '2009-04-13T19:47:11Z', texts: [{ text: 'Account disabled' }] },
    ]);
    expect(incident.solutions).toEqual([]);
  });
});

// ───────────────────────────────────── malformed input ─────────────────────────────────────

describe('decodeIodef rejects what it cannot understand, with path and reason', () => {
  const cases: Array<[string, string, string, string | RegExp]> = [
    ['truncated XML', report('').slice(0, 120), '/', 'not well-formed XML'],
    [
      'wrapper in the wrong namespace',
      report('').replace(INCIDENT_NS, 'urn:xmpp:incident:1'),
      'report',
      `<report/> must be in namespace ${INCIDENT_NS}, not urn:xmpp:incident:1`,
    ],
    ['unknown wrapper', `<notify xmlns='${INCIDENT_NS}'/>`, 'notify', 'is not an incident wrapper'],
    [
      'Incident in the wrong namespace',
      report('').replace(IODEF_NS, 'urn:ietf:params:xml:ns:iodef-2.0'),
      'report/Incident',
      `<Incident> must be in namespace ${IODEF_NS}, not urn:ietf:params:xml:ns:iodef-2.0`,
    ],
    [
      'Incident without a namespace (inherits the wrapper one)',
      `<report xmlns='${INCIDENT_NS}'><Incident><IncidentID name='a'>1</IncidentID></Incident></report>`,
      'report/Incident',
      `not ${INCIDENT_NS}`,
    ],
    [
      'bare Incident in the wrong namespace',
      `<Incident xmlns='urn:example'><IncidentID name='a'>1</IncidentID></Incident>`,
      'Incident',
      `<Incident> must be in namespace ${IODEF_NS}`,
    ],
    ['no Incident', `<report xmlns='${INCIDENT_NS}'/>`, 'report', 'no IODEF <Incident> inside <report/>'],
    [
      'two Incidents',
      report('').replace('</report>', `<Incident xmlns='${IODEF_NS}'/></report>`),
      'report',
      'exactly one <Incident> allowed, found 2',
    ],
    [
      'missing IncidentID',
      `<report xmlns='${INCIDENT_NS}'><Incident xmlns='${IODEF_NS}'/></report>`,
      'report/Incident',
      'missing IncidentID',
    ],
    [
      'two IncidentIDs',
      report(`<IncidentID name='a'>2</IncidentID>`),
      'report/Incident',
      'exactly one IncidentID allowed, found 2',
    ],
    [
      'IncidentID without name',
      report('').replace(" name='jabber.org'", ''),
      'report/Incident/IncidentID',
      'IncidentID needs a name (issuing site)',
    ],
    ['empty IncidentID', report('').replace('inc-1', '  '), 'report/Incident/IncidentID', 'IncidentID is empty'],
    [
      'overlong IncidentID',
      report('').replace('inc-1', 'x'.repeat(300)),
      'report/Incident/IncidentID',
      'longer than 256 characters',
    ],
    [
      'empty related IncidentID',
      report(`<RelatedActivity><IncidentID name='im.example.com'/></RelatedActivity>`),
      'report/Incident/RelatedActivity/IncidentID',
      'IncidentID is empty',
    ],
  ];

  /** Liberal intake (issue 12): what a real peer may send is accepted, and what was odd is noted with its path. */
  const accepted: Array<[string, string, string, string | RegExp]> = [
    [
      'bad StartTime',
      report('<StartTime>2009-13-13T19:05:20Z</StartTime>'),
      'report/Incident/StartTime',
      'is not an XEP-0082 DateTime',
    ],
    [
      'StartTime without a time zone',
      report('<StartTime>2009-04-13T19:05:20</StartTime>'),
      'report/Incident/StartTime',
      'is not an XEP-0082 DateTime',
    ],
    [
      'bad report status',
      report('', " status='closed'"),
      'report',
      "status 'closed' is not one of new, updated, resolved",
    ],
    [
      'bad purpose',
      report('').replace("purpose='reporting'", "purpose='revenge'"),
      'report/Incident',
      "purpose 'revenge' is not one of traceback, mitigation, reporting, other",
    ],
    [
      'ext-value purpose without ext-purpose',
      report('').replace("purpose='reporting'", "purpose='ext-value'"),
      'report/Incident',
      "purpose='ext-value' without ext-purpose",
    ],
    [
      'bad Impact severity',
      report(`<Assessment><Impact severity='critical' type='dos'/></Assessment>`),
      'report/Incident/Assessment/Impact',
      "severity 'critical' is not one of low, medium, high",
    ],
    [
      'bad Impact completion',
      report(`<Assessment><Impact completion='partly' type='dos'/></Assessment>`),
      'report/Incident/Assessment/Impact',
      "completion 'partly' is not one of failed, succeeded",
    ],
    [
      'bad Impact type',
      report(`<Assessment><Impact type='spam'/></Assessment>`),
      'report/Incident/Assessment/Impact',
      "type 'spam' is not one of admin, dos",
    ],
    [
      'bad System category',
      flowReport(`<System category='bystander'><Node/></System>`),
      'report/Incident/EventData/Flow/System',
      "category 'bystander' is not one of source, target",
    ],
    [
      'System without category',
      flowReport(`<System><Node/></System>`),
      'report/Incident/EventData/Flow/System',
      'System without a category',
    ],
    [
      'bad JID in Address',
      report(sourceNode(`<Address category='ext-value' ext-category='xmpp'>ab user@clueless.lit</Address>`)),
      `${FLOW_NODE}/Address`,
      "'ab user@clueless.lit' is not a valid JID: forbidden character in localpart",
    ],
    [
      'bad JID in the second Node (path says which)',
      report(
        flow(
          `<System category='target'><Node><Address category='ext-category' ext-category='xmpp'>ok@x.lit</Address></Node>` +
            `<Node><Address category='ext-category' ext-category='xmpp'>@x.lit</Address></Node></System>`,
        ),
      ),
      'report/Incident/EventData/Flow/System/Node[2]/Address',
      'empty localpart',
    ],
    [
      'bad IP',
      report(sourceNode(`<Address category='ipv4-addr'>192.0.2.300</Address>`)),
      `${FLOW_NODE}/Address`,
      "'192.0.2.300' is not an IPv4 or IPv6 address",
    ],
    [
      'IP address where the category defaults to ipv4-addr',
      report(sourceNode(`<Address>abuser.example</Address>`)),
      `${FLOW_NODE}/Address`,
      'is not an IPv4 or IPv6 address',
    ],
    ['empty Address', report(sourceNode(`<Address category='e-mail'/>`)), `${FLOW_NODE}/Address`, 'empty Address: left out'],
    [
      'bad Counter',
      report(sourceNode(`<Counter type='message'>lots</Counter>`)),
      `${FLOW_NODE}/Counter`,
      "Counter value 'lots' is not a non-negative integer",
    ],
    [
      'negative Counter',
      report(sourceNode(`<Counter type='ext-type' ext-type='xmpp-presence'>-5</Counter>`)),
      `${FLOW_NODE}/Counter`,
      "Counter value '-5' is not a non-negative integer",
    ],
    [
      'Counter without type',
      report(sourceNode(`<Counter>5</Counter>`)),
      `${FLOW_NODE}/Counter`,
      'without a type: left out',
    ],
    [
      'NodeRole without category',
      report(sourceNode(`<NodeRole/>`)),
      `${FLOW_NODE}/NodeRole`,
      'NodeRole without a category: left out',
    ],
    [
      'bad Service Port',
      report(
        sourceNode(
          `<Address category='ipv4-addr'>192.0.2.1</Address>`,
          `<Service ip_protocol='6'><Port>70000</Port></Service>`,
        ),
      ),
      'report/Incident/EventData/Flow/System/Service/Port',
      "Port '70000' is not a port number",
    ],
    [
      'bad Expectation action',
      report(`<EventData><Expectation action='nuke-from-orbit'/></EventData>`),
      'report/Incident/EventData/Expectation',
      "action 'nuke-from-orbit' is not one of nothing, contact-source-site",
    ],
    [
      'HistoryItem without DateTime',
      report(`<History><HistoryItem action='block-host'><Description>done</Description></HistoryItem></History>`),
      'report/Incident/History/HistoryItem',
      'HistoryItem without a DateTime: left out',
    ],
    [
      'HistoryItem with a bad DateTime (second item)',
      report(
        `<History><HistoryItem action='other'><DateTime>2009-04-13T19:47:11Z</DateTime></HistoryItem>` +
          `<HistoryItem action='other'><DateTime>yesterday</DateTime></HistoryItem></History>`,
      ),
      'report/Incident/History/HistoryItem[2]/DateTime',
      "'yesterday' is not an XEP-0082 DateTime",
    ],
    [
      'bad jid in admin Contact',
      report(
        `<Contact role='admin' type='person'><AdditionalData><jid xmlns='${JID_NS}'>stpeter@</jid></AdditionalData></Contact>`,
      ),
      'report/Incident/Contact/AdditionalData/jid',
      "'stpeter@' is not a valid JID: empty domain",
    ],
    [
      'bad jid in the chatroom Contact',
      report(
        `<Contact role='ext-value' ext-role='chatroom'><AdditionalData><jid xmlns='${JID_NS}'>ops@muc..lit</jid></AdditionalData></Contact>`,
      ),
      'report/Incident/Contact/AdditionalData/jid',
      'malformed domain',
    ],
    [
      'bad language tag',
      report(`<Description xml:lang='en us!'>hello</Description>`),
      'report/Incident/Description',
      "xml:lang 'en us!' is not a language tag",
    ],
    [
      'bad IP in a carried legacy solution',
      report(
        `<History><HistoryItem action='block-host'><DateTime>2009-04-13T19:47:11Z</DateTime><AdditionalData dtype='xml'>` +
          `<solution xmlns='urn:xmpp:incident:0'><source><ips><ip>999.0.2.1</ip></ips></source></solution>` +
          `</AdditionalData></HistoryItem></History>`,
      ),
      'report/Incident/History/HistoryItem/AdditionalData/solution/source/ips/ip',
      "'999.0.2.1' is not an IPv4 or IPv6 address",
    ],
  ];

  function flowReport(systems: string): string {
    return report(flow(systems));
  }

  it('has distinct cases: what cannot be identified is refused, what a real peer may send is accepted', () => {
    expect(new Set(cases.map(([name]) => name)).size).toBe(cases.length);
    expect(new Set(accepted.map(([name]) => name)).size).toBe(accepted.length);
    expect(cases.length).toBeGreaterThanOrEqual(14);
    expect(accepted.length).toBeGreaterThanOrEqual(27);
  });

  for (const [name, text, path, message] of cases) {
    it(name, () => expectFailure(decodeText(text), path, message));
  }

  for (const [name, text, path, message] of accepted) {
    it(`accepts, with an intake note: ${name}`, () => {
      const result = decodeText(text);
      expect(result.ok, result.ok ? '' : `${result.error.path}: ${result.error.message}`).toBe(true);
      if (!result.ok) return;
      const notes = result.value.notes ?? [];
      const where = path.slice(path.indexOf('/') + 1);
      const note = notes.find((n) => n.startsWith(`${where}: `));
      expect(note, `a note at ${where} among ${JSON.stringify(notes)}`).toBeDefined();
      if (typeof message === 'string') expect(note).toContain(message);
      else expect(note).toMatch(message);
    });
  }

  describe('shape limits (checked by decodeIodef itself, before walking the tree)', () => {
    it('deep nesting (100 levels) is an error', () => {
      // Parsed with generous limits so that it is decodeIodef, not the parser, that refuses it.
      const text = report('<EventData>'.repeat(100) + '</EventData>'.repeat(100));
      const el = parseXml(text, { maxDepth: 1000, maxElements: 5000, maxTextLength: 16 * 1024 });
      expect(el.ok).toBe(true);
      if (!el.ok) return;
      const result = decodeIodef(el.value);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.path.startsWith('report/Incident/EventData/EventData')).toBe(true);
      expect(result.error.message).toContain('nested too deeply (more than 24 levels)');
    });

    it('10 000 levels built in memory neither throw nor overflow the stack', () => {
      let inner = xml('EventData', {});
      for (let i = 0; i < 10_000; i++) inner = xml('EventData', {}, inner);
      const el = xml(
        'report',
        { xmlns: INCIDENT_NS },
        xml('Incident', { xmlns: IODEF_NS }, xml('IncidentID', { name: 'a' }, '1'), inner),
      );
      const result = decodeIodef(el);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.message).toContain('nested too deeply');
    });

    it('a giant text (1 MB) is an error', () => {
      const el = xml(
        'report',
        { xmlns: INCIDENT_NS },
        xml(
          'Incident',
          { xmlns: IODEF_NS },
          xml('IncidentID', { name: 'a' }, '1'),
          xml('Description', {}, 'A'.repeat(1024 * 1024)),
        ),
      );
      expectFailure(decodeIodef(el), 'report/Incident/Description', 'text too long (1048576 characters');
    });

    it('too many elements is an error', () => {
      const descriptions = Array.from({ length: 6000 }, () => xml('Description', {}, 'spam'));
      const el = xml(
        'report',
        { xmlns: INCIDENT_NS },
        xml('Incident', { xmlns: IODEF_NS }, xml('IncidentID', { name: 'a' }, '1'), ...descriptions),
      );
      const result = decodeIodef(el);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.message).toContain('too many elements (more than 5000)');
    });
  });

  it('never throws: every element of the v0.6 response removed in turn, or emptied of attributes', () => {
    const count = countElements(payloadOf('v0.6-response'));
    for (let i = 1; i < count; i++) {
      for (const mutate of [removeElement, stripAttributes, replaceText]) {
        const payload = payloadOf('v0.6-response');
        mutate(nthElement(payload, i));
        expect(() => decodeIodef(payload)).not.toThrow();
      }
    }
  });

  it('never throws on elements that are not incidents at all', () => {
    for (const text of ['<iq/>', `<report xmlns='${INCIDENT_NS}'>text only</report>`, '<a:b xmlns:a="x"/>']) {
      const result = decodeText(text);
      expect(result.ok).toBe(false);
    }
  });
});

function countElements(el: Element): number {
  return 1 + el.getChildElements().reduce((n, c) => n + countElements(c), 0);
}

function nthElement(root: Element, n: number): Element {
  const all: Element[] = [];
  const walk = (el: Element) => {
    all.push(el);
    el.getChildElements().forEach(walk);
  };
  walk(root);
  return all[n]!;
}

function removeElement(el: Element): void {
  el.parent?.remove(el);
}

function stripAttributes(el: Element): void {
  el.attrs = {};
}

function replaceText(el: Element): void {
  el.children = el.children.filter((c) => typeof c !== 'string');
  el.children.push('\u0000garbage <&>');
}

// ───────────────────────────────────── liberal decoding ─────────────────────────────────────

describe('decodeIodef is liberal in what it accepts', () => {
  function decodeReport(text: string): Incident {
    const result = decodeText(text);
    if (!result.ok) throw new Error(`${result.error.path}: ${result.error.message}`);
    return result.value.incident;
  }

  it('reads the report status attribute', () => {
    expect(decodeReport(report('', " status='resolved'")).status).toBe('resolved');
    expect(decodeReport(report('', " status='updated'")).status).toBe('updated');
    expect(decodeReport(report('')).status).toBe('new');
  });

  it('defaults a missing purpose from the wrapper', () => {
    const text = (kind: string) =>
      `<${kind} xmlns='${INCIDENT_NS}'><Incident xmlns='${IODEF_NS}'><IncidentID name='a'>1</IncidentID></Incident></${kind}>`;
    expect(decoded(parsed(text('report'))).incident.purpose).toBe('reporting');
    expect(decoded(parsed(text('inquiry'))).incident.purpose).toBe('traceback');
    expect(decoded(parsed(text('request'))).incident.purpose).toBe('mitigation');
    expect(decoded(parsed(text('response'))).incident.purpose).toBe('mitigation');
  });

  it('resolves extension values in both the RFC and the XEP spelling', () => {
    const incident = decodeReport(
      report(
        `<Assessment><Impact type='ext-value' ext-type='spim'/></Assessment>` +
          `<Contact role='creator' type='person'><AdditionalData><jid xmlns='${JID_NS}'>Admin@Jabber.org</jid></AdditionalData></Contact>` +
          `<Contact role='admin' type='person'><AdditionalData><jid xmlns='${INCIDENT_NS}'>admin@jabber.org</jid></AdditionalData></Contact>` +
          `<Contact role='tech' type='person'><AdditionalData><jid xmlns='${JID_NS}'>tech@jabber.org</jid></AdditionalData></Contact>` +
          `<Contact role='ext-value' ext-role='chatroom' type='ext-value' ext-type='chatroom'>` +
          `<AdditionalData><jid xmlns='${JID_NS}'>ops@muc.jabber.org</jid></AdditionalData></Contact>` +
          sourceNode(
            `<Address category='ext-value' ext-category='xmpp'>a@b.lit</Address>` +
              `<NodeRole category='ext-value' ext-category='xmpp-pubsub'/><NodeRole category='server-public'/>` +
              `<Counter type='ext-value' ext-type='xmpp-message'>9</Counter>`,
          ),
      ).replace("purpose='reporting'", "purpose='ext-value' ext-purpose='warning'"),
    );
    expect(incident.purpose).toBe('warning');
    expect(incident.impact).toEqual({ type: 'spim' });
    expect(incident.admins).toEqual(['Admin@Jabber.org']); // same JID, compared case-insensitively
    expect(incident.room).toBe('ops@muc.jabber.org');
    expect(incident.sources).toEqual([
      {
        addresses: [{ kind: 'jid', value: 'a@b.lit' }],
        counters: [{ type: 'xmpp-message', value: 9 }],
        roles: ['xmpp-pubsub', 'server-public'],
      },
    ]);
  });

  it('reads ports from System/Service/Port and from a sloppy addr:port text', () => {
    const incident = decodeReport(
      report(
        flow(
          `<System category='source'><Node><Address category='ipv4-addr'>192.0.2.1</Address></Node>` +
            `<Service ip_protocol='6'><Port>53667</Port></Service></System>` +
            `<System category='source'><Node><Address category='ipv4-addr'>198.51.100.7:5222</Address></Node></System>` +
            `<System category='target'><Node><Address category='ipv6-addr'>2001:db8::1</Address>` +
            `<Address category='e-mail'>abuse@example.com</Address></Node></System>`,
        ),
      ),
    );
    expect(incident.sources.map((n) => n.addresses)).toEqual([
      [{ kind: 'ip', value: '192.0.2.1', version: 4, port: 53667 }],
      [{ kind: 'ip', value: '198.51.100.7', version: 4, port: 5222 }],
    ]);
    expect(incident.targets[0]?.addresses).toEqual([
      { kind: 'ip', value: '2001:db8::1', version: 6 },
      { kind: 'other', category: 'e-mail', value: 'abuse@example.com' },
    ]);
  });

  it('applies System-level NodeRole to every node and drops systems the model cannot hold', () => {
    const incident = decodeReport(
      report(
        flow(
          `<System category='target'><Node><Address category='ext-category' ext-category='xmpp'>a.lit</Address></Node>` +
            `<Node><Address category='ext-category' ext-category='xmpp'>b.lit</Address></Node>` +
            `<NodeRole category='ext-category' ext-category='xmpp'/><Counter type='session'>3</Counter></System>` +
            `<System category='intermediate'><Node><Address>192.0.2.9</Address></Node></System>`,
        ),
      ),
    );
    expect(incident.sources).toEqual([]);
    expect(incident.targets).toEqual([
      { addresses: [{ kind: 'jid', value: 'a.lit' }], counters: [{ type: 'session', value: 3 }], roles: ['xmpp'] },
      { addresses: [{ kind: 'jid', value: 'b.lit' }], counters: [], roles: ['xmpp'] },
    ]);
  });

  it('understands an RFC 5070 IODEF-Document root, namespace prefixes and nested EventData', () => {
    const incident = decodeReport(
      `<report xmlns='${INCIDENT_NS}'><i:IODEF-Document xmlns:i='${IODEF_NS}' version='1.00'>` +
        `<i:Incident purpose='reporting'><i:IncidentID name='a.lit'>7</i:IncidentID>` +
        `<i:EventData><i:EventData><i:Expectation/></i:EventData></i:EventData></i:Incident></i:IODEF-Document></report>`,
    );
    expect(incident.id).toBe('7');
    // RFC 5070: Expectation@action defaults to 'other'
    expect(incident.expectation).toEqual({ action: 'other', texts: [] });
  });

  it("reads a Description language written as RFC 5070's lang as well as xml:lang", () => {
    const incident = decodeReport(
      report(`<Description lang='de'>Spamwelle</Description><Description xml:lang='en'>spam wave</Description>`),
    );
    expect(incident.texts).toEqual([
      { text: 'Spamwelle', lang: 'de' },
      { text: 'spam wave', lang: 'en' },
    ]);
  });

  it('reads legacy info carried in AdditionalData', () => {
    const incident = decodeReport(
      report(
        `<AdditionalData dtype='xml' meaning='xmpp-incident-info'><info xmlns='urn:xmpp:incident:0'>` +
          `<category>pubsub</category><type>flood</type></info></AdditionalData>`,
      ),
    );
    expect(incident.category).toBe('pubsub');
    expect(incident.types).toEqual(['flood']);
  });

  it('keeps a related incident without site, and a HistoryItem without action as other', () => {
    const incident = decodeReport(
      report(
        `<RelatedActivity><IncidentID>abc</IncidentID></RelatedActivity>` +
          `<History><HistoryItem><DateTime>2009-04-13T19:47:11+02:00</DateTime>` +
          `<Contact role='admin' type='person'><AdditionalData><jid xmlns='${JID_NS}'>ops@a.lit</jid></AdditionalData></Contact>` +
          `</HistoryItem></History>`,
      ),
    );
    expect(incident.related).toEqual([{ id: 'abc' }]);
    expect(incident.history).toEqual([
      { action: 'other', time: '2009-04-13T19:47:11+02:00', who: 'ops@a.lit', texts: [] },
    ]);
  });
});

describe('findIodefPayload', () => {
  it('finds each wrapper and the v0.4 bare Incident', () => {
    for (const name of V06_FIXTURES) {
      expect(findIodefPayload(parsed(fixture(name)))?.getName()).toBe(name.replace('v0.6-', ''));
    }
    expect(findIodefPayload(parsed(fixture('v0.4-report-repaired')))?.getName()).toBe('Incident');
  });

  it('ignores other children and wrappers in other namespaces', () => {
    expect(findIodefPayload(parsed(`<iq type='get'><query xmlns='jabber:iq:version'/></iq>`))).toBeUndefined();
    expect(findIodefPayload(parsed(`<iq type='set'><report xmlns='urn:xmpp:incident:0'/></iq>`))).toBeUndefined();
    expect(findIodefPayload(parsed(`<iq type='set'><Incident xmlns='urn:example'/></iq>`))).toBeUndefined();
    const iq = parsed(`<iq type='set'><x xmlns='urn:example'/><request xmlns='${INCIDENT_NS}'/></iq>`);
    expect(findIodefPayload(iq)?.getName()).toBe('request');
  });
});

// ───────────────────────────────────── encoding ─────────────────────────────────────

/** A model exercising everything the codec carries. */
function fullIncident(): Incident {
  return {
    ...emptyIncident('incident-42', 'resolved'),
    site: 'example.org',
    purpose: 'reporting',
    admins: ['admin@example.org', 'ops@example.org/desk'],
    room: 'operators@muc.example.org',
    category: 'muc',
    types: ['presence', 'long-messages'],
    severity: 2,
    impact: { type: 'xmpp-spam', completion: 'failed', lang: 'en' },
    sources: [
      {
        addresses: [
          { kind: 'jid', value: 'abuser@clueless.lit' },
          { kind: 'ip', value: '192.0.2.1', version: 4, port: 53667 },
        ],
        counters: [
          { type: 'xmpp-presence', value: 123 },
          { type: 'message', value: 5 },
        ],
        roles: ['client'],
      },
      { addresses: [{ kind: 'ip', value: '2001:db8::7', version: 6, port: 5222 }], counters: [], roles: [] },
      { addresses: [{ kind: 'other', category: 'e-mail', value: 'spam@clueless.lit' }], counters: [], roles: [] },
    ],
    targets: [
      {
        addresses: [{ kind: 'jid', value: 'jdev@conference.example.org' }],
        counters: [],
        roles: ['xmpp-muc', 'server-public'],
      },
    ],
    related: [{ id: 'rel-1', site: 'im.example.com' }, { id: 'rel-2' }],
    texts: [{ text: 'spam wave', lang: 'en' }, { text: 'Spamwelle', lang: 'de' }, { text: 'no language' }],
    times: {
      begin: '2009-04-13T19:05:20Z',
      end: '2009-04-13T19:27:22Z',
      report: '2009-04-13T19:31:07.5+02:00',
      detect: '2009-04-13T19:06:00Z',
    },
    expectation: { action: 'xmpp-ban', texts: [{ text: 'please ban', lang: 'en' }] },
    solutions: [
      {
        texts: [{ text: 'iptables -A INPUT -s 192.0.2.1 -j DROP', lang: 'en' }],
        sources: [
          {
            addresses: [
              { kind: 'jid', value: 'abuser@clueless.lit' },
              { kind: 'ip', value: '192.0.2.1', version: 4 },
              { kind: 'ip', value: '2001:db8::7', version: 6, port: 5222 },
            ],
            counters: [],
            roles: [],
          },
        ],
      },
      { texts: [{ text: 'told the admin' }], sources: [] },
    ],
    history: [
      { action: 'block-host', time: '2009-04-13T19:47:11Z', who: 'ops@example.org', texts: [{ text: 'blocked' }] },
      { action: 'blockquote', time: '2009-04-13T19:48:00Z', texts: [] },
    ],
  };
}

/** Attributes of every element named `name` (optionally only under a parent named `parentName`), in order. */
function attrsOf(root: Element, name: string, parentName?: string): Array<Record<string, string>> {
  const found: Array<Record<string, string>> = [];
  const walk = (el: Element) => {
    if (el.getName() === name && (parentName === undefined || el.parent?.getName() === parentName)) {
      found.push({ ...el.attrs });
    }
    el.getChildElements().forEach(walk);
  };
  walk(root);
  return found;
}

describe('encodeIodef', () => {
  it('returns an @xmpp/xml Element whose text form parses back', () => {
    const el = encodeIodef('report', fullIncident());
    expect(el).toBeInstanceOf(XmppElement);
    const text = el.toString();
    const again = parseXml(text);
    expect(again.ok).toBe(true);
    if (again.ok) expect(again.value.toString()).toBe(text);
  });

  it('model → IODEF → model is exact for a model using every field', () => {
    const incident = fullIncident();
    for (const kind of ['report', 'inquiry', 'request', 'response'] as const) {
      const back = reencoded({ kind, incident }).incident;
      // Only a report carries the status; the other wrappers read as new.
      expect(back).toStrictEqual(kind === 'report' ? incident : { ...incident, status: 'new' });
    }
  });

  it('wraps the Incident in INCIDENT_NS, with status only on a report', () => {
    const incident = fullIncident();
    const reportEl = encodeIodef('report', incident);
    expect(reportEl.getName()).toBe('report');
    expect(reportEl.attrs).toEqual({ xmlns: INCIDENT_NS, status: 'resolved' });
    expect(encodeIodef('report', { ...incident, status: 'new' }).attrs.status).toBe('new');
    const inner = reportEl.getChildElements();
    expect(inner).toHaveLength(1);
    expect(inner[0]?.getName()).toBe('Incident');
    expect(inner[0]?.attrs.xmlns).toBe(IODEF_NS);
    for (const kind of ['inquiry', 'request', 'response'] as const) {
      expect(encodeIodef(kind, incident).attrs).toEqual({ xmlns: INCIDENT_NS });
    }
  });

  it('defaults the purpose by kind', () => {
    const bare = { ...emptyIncident('1'), site: 'a.lit' };
    const purposeOf = (kind: 'report' | 'inquiry' | 'request' | 'response') =>
      encodeIodef(kind, bare).getChild('Incident')?.attrs.purpose;
    expect(purposeOf('report')).toBe('reporting');
    expect(purposeOf('inquiry')).toBe('traceback');
    expect(purposeOf('request')).toBe('mitigation');
    expect(purposeOf('response')).toBe('mitigation');
    const ext = encodeIodef('report', { ...bare, purpose: 'warning' }).getChild('Incident')?.attrs;
    expect(ext).toMatchObject({ purpose: 'ext-value', 'ext-purpose': 'warning' });
  });

  it('writes extensions in the strict RFC 5070 form only', () => {
    const el = encodeIodef('response', fullIncident());
    const text = el.toString();
    // never the XEP's sloppy spellings
    expect(text).not.toMatch(/="ext-(category|type|role|action|purpose)"/);
    expect(attrsOf(el, 'Address')).toEqual([
      { category: 'ext-value', 'ext-category': 'xmpp' },
      { category: 'ipv4-addr' },
      { category: 'ipv6-addr' },
      { category: 'e-mail' },
      { category: 'ext-value', 'ext-category': 'xmpp' },
    ]);
    expect(attrsOf(el, 'Counter')).toEqual([
      { type: 'ext-value', 'ext-type': 'xmpp-presence' },
      { type: 'message' },
    ]);
    expect(attrsOf(el, 'NodeRole')).toEqual([
      { category: 'client' },
      { category: 'ext-value', 'ext-category': 'xmpp-muc' },
      { category: 'server-public' },
    ]);
    expect(attrsOf(el, 'Impact')).toEqual([
      { lang: 'en', severity: 'high', completion: 'failed', type: 'ext-value', 'ext-type': 'xmpp-spam' },
    ]);
    expect(attrsOf(el, 'Expectation')).toEqual([{ action: 'ext-value', 'ext-action': 'xmpp-ban' }]);
    expect(attrsOf(el, 'HistoryItem').map((a) => a.action + (a['ext-action'] ? `/${a['ext-action']}` : ''))).toEqual(
      ['block-host', 'ext-value/blockquote', 'block-host', 'remediate-other'],
    );
    const contacts = attrsOf(el, 'Contact');
    expect(contacts).toContainEqual({ role: 'admin', type: 'person' });
    expect(contacts).toContainEqual({
      role: 'ext-value',
      'ext-role': 'chatroom',
      type: 'ext-value',
      'ext-type': 'chatroom',
    });
    // JID slots use urn:xmpp:jid:0 (the carried legacy <solution/> has jids of its own, in its own namespace)
    const slots = attrsOf(el, 'jid', 'AdditionalData');
    expect(slots).toHaveLength(4); // 2 admins, the room, the history item's who
    expect(slots.every((a) => a.xmlns === JID_NS)).toBe(true);
  });

  it('puts Incident children in RFC 5070 schema order', () => {
    const incident = encodeIodef('report', fullIncident()).getChild('Incident')!;
    const order = incident.getChildElements().map((c) => c.getName());
    const schema = [
      'IncidentID',
      'RelatedActivity',
      'DetectTime',
      'StartTime',
      'EndTime',
      'ReportTime',
      'Description',
      'Assessment',
      'Contact',
      'EventData',
      'History',
      'AdditionalData',
    ];
    const ranks = order.map((name) => schema.indexOf(name));
    expect(ranks.every((r) => r >= 0)).toBe(true);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
  });

  it('writes one Node per System and an IP port as System/Service/Port', () => {
    const el = encodeIodef('report', fullIncident());
    const systems = el.getChild('Incident')!.getChild('EventData')!.getChild('Flow')!.getChildElements();
    expect(systems.map((s) => s.attrs.category)).toEqual(['source', 'source', 'source', 'target']);
    expect(systems.every((s) => s.getChildren('Node').length === 1)).toBe(true);
    expect(systems[0]?.getChild('Service')?.attrs).toEqual({ ip_protocol: '6' });
    expect(systems[0]?.getChild('Service')?.getChildText('Port')).toBe('53667');
    expect(systems[0]?.getChild('Node')?.getChildren('Address')[1]?.getText()).toBe('192.0.2.1');
    expect(systems[1]?.getChild('Service')?.getChildText('Port')).toBe('5222');
    expect(systems[2]?.getChild('Service')).toBeUndefined();
  });

  it('splits a node whose several IP addresses carry ports, so each port stays with its address', () => {
    const incident: Incident = {
      ...emptyIncident('1'),
      site: 'a.lit',
      sources: [
        {
          addresses: [
            { kind: 'jid', value: 'x@a.lit' },
            { kind: 'ip', value: '192.0.2.1', version: 4, port: 1111 },
            { kind: 'ip', value: '192.0.2.2', version: 4, port: 2222 },
          ],
          counters: [{ type: 'message', value: 1 }],
          roles: [],
        },
      ],
    };
    const back = reencoded({ kind: 'report', incident }).incident;
    expect(back.sources).toEqual([
      {
        addresses: [
          { kind: 'jid', value: 'x@a.lit' },
          { kind: 'ip', value: '192.0.2.1', version: 4, port: 1111 },
        ],
        counters: [{ type: 'message', value: 1 }],
        roles: [],
      },
      { addresses: [{ kind: 'ip', value: '192.0.2.2', version: 4, port: 2222 }], counters: [], roles: [] },
    ]);
  });

  it('carries solutions as HistoryItems with the legacy shape, timed by the report time', () => {
    const el = encodeIodef('report', fullIncident());
    const items = el.getChild('Incident')!.getChild('History')!.getChildren('HistoryItem');
    const solution = items[2]!;
    expect(solution.getChildText('DateTime')).toBe('2009-04-13T19:31:07.5+02:00');
    expect(solution.getChildText('Description')).toBe('iptables -A INPUT -s 192.0.2.1 -j DROP');
    const data = solution.getChild('AdditionalData')!;
    expect(data.attrs).toEqual({ dtype: 'xml', meaning: 'xmpp-incident-solution' });
    const legacy = data.getChild('solution', 'urn:xmpp:incident:0')!;
    expect(legacy.getChild('source')!.getChild('jids')!.getChildText('jid')).toBe('abuser@clueless.lit');
    expect(
      legacy
        .getChild('source')!
        .getChild('ips')!
        .getChildren('ip')
        .map((ip) => ip.getText()),
    ).toEqual(['192.0.2.1', '[2001:db8::7]:5222']);
    // Without report or begin time the epoch stands in.
    const untimed = encodeIodef('report', { ...fullIncident(), times: {} });
    const epoch = untimed.getChild('Incident')!.getChild('History')!.getChildren('HistoryItem')[2]!;
    expect(epoch.getChildText('DateTime')).toBe('1970-01-01T00:00:00Z');
  });

  it('carries category and types as legacy <info> in AdditionalData', () => {
    const data = encodeIodef('report', fullIncident()).getChild('Incident')!.getChild('AdditionalData')!;
    expect(data.attrs).toEqual({ dtype: 'xml', meaning: 'xmpp-incident-info' });
    expect(data.getChild('info')?.toString()).toBe(
      '<info xmlns="urn:xmpp:incident:0"><category>muc</category><type>presence</type><type>long-messages</type></info>',
    );
  });

  it('writes no EndTime for "still happening" (end: null), which reads back as not said', () => {
    const incident = { ...emptyIncident('1'), site: 'a.lit', times: { begin: '2009-04-13T19:05:20Z', end: null } };
    const el = encodeIodef('report', incident);
    expect(el.getChild('Incident')!.getChild('EndTime')).toBeUndefined();
    expect(reencoded({ kind: 'report', incident }).incident.times).toEqual({ begin: '2009-04-13T19:05:20Z' });
  });

  it('refuses to build an Incident without IncidentID name or id', () => {
    expect(() => encodeIodef('report', emptyIncident('1'))).toThrow(TypeError);
    expect(() => encodeIodef('report', { ...emptyIncident(''), site: 'a.lit' })).toThrow(/incident.id/);
  });
});
