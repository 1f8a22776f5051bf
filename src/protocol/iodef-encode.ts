/** IODEF encoding: strict RFC 5070 (`ext-value` + `ext-<attr>` for every extension, schema order, one Node per System). */
import xml from '@xmpp/xml';
import { type Address, type Expectation, formatIp, type HistoryItem, type Incident, INCIDENT_PURPOSES, type IncidentTimes, IODEF_ACTIONS, type IodefKind, type LocalizedText, type NetworkNode, type RelatedIncident, type Solution } from './incident.js';
import { toIodefSeverity } from './severity.js';
import { Element } from './xml.js';
import { ADDRESS_CATEGORIES, CHATROOM_ROLE, COUNTER_TYPES, DEFAULT_PURPOSE, EPOCH, IMPACT_TYPES, INCIDENT_NS, INFO_MEANING, IODEF_NS, JID_NS, LEGACY_NS, NODE_ROLES, SOLUTION_MEANING, TCP, XMPP_ADDRESS } from './iodef-vocabulary.js';


export type Child = Element | string | undefined | false;

/** xml() with optional children: undefined/false ones are left out. */
export function make(name: string, attrs: Record<string, string | undefined>, ...children: Child[]): Element {
  return xml(name, attrs, ...children.filter((c): c is Element | string => c !== undefined && c !== false));
}

/**
 * Builds the wrapper (in INCIDENT_NS) around `<Incident xmlns=IODEF_NS>`; a report carries `status`.
 * Throws a TypeError when the incident has no site or id: IncidentID@name is required and our own decoder
 * would reject the result, so sending it would only produce an error at the peer.
 */
export function encodeIodef(kind: IodefKind, incident: Incident): Element {
  return make(
    kind,
    { xmlns: INCIDENT_NS, status: kind === 'report' ? incident.status : undefined },
    encodeIncident(kind, incident),
  );
}

/** Children in RFC 5070 schema order (IncidentID, RelatedActivity, times, Description, Assessment, Contact, …). */
export function encodeIncident(kind: IodefKind, incident: Incident): Element {
  if (!incident.site) throw new TypeError('encodeIodef: incident.site (IncidentID@name, the issuing site) is required');
  if (!incident.id) throw new TypeError('encodeIodef: incident.id is required');
  return make(
    'Incident',
    { xmlns: IODEF_NS, ...enumAttrs('purpose', incident.purpose ?? DEFAULT_PURPOSE[kind], INCIDENT_PURPOSES) },
    make('IncidentID', { name: incident.site }, incident.id),
    encodeRelated(incident.related),
    ...encodeTimes(incident.times),
    ...encodeDescriptions(incident.texts),
    encodeAssessment(incident),
    ...incident.admins.map(adminContact),
    incident.room !== undefined && roomContact(incident.room),
    incident.owner !== undefined && techContact(incident.owner),
    encodeEventData(incident),
    encodeHistory(incident),
    encodeInfo(incident),
  );
}

/** Strict extension form: known values plain, anything else as attr='ext-value' ext-attr='name'. */
export function enumAttrs(name: string, value: string, known: readonly string[]): Record<string, string> {
  return known.includes(value) ? { [name]: value } : { [name]: 'ext-value', [`ext-${name}`]: value };
}

export function encodeRelated(related: readonly RelatedIncident[]): Element | undefined {
  if (related.length === 0) return undefined;
  return make('RelatedActivity', {}, ...related.map((r) => make('IncidentID', { name: r.site }, r.id)));
}

export function encodeTimes(times: IncidentTimes): Element[] {
  // Schema order. end === null ("still happening", legacy) has no IODEF form: no EndTime is the closest.
  const elements: Array<[string, string | null | undefined]> = [
    ['DetectTime', times.detect],
    ['StartTime', times.begin],
    ['EndTime', times.end],
    ['ReportTime', times.report],
  ];
  return elements.flatMap(([name, value]) => (typeof value === 'string' ? [make(name, {}, value)] : []));
}

export function encodeDescriptions(texts: readonly LocalizedText[]): Element[] {
  return texts.map((t) => make('Description', { 'xml:lang': t.lang }, t.text));
}

export function encodeAssessment(incident: Incident): Element | undefined {
  const { severity, impact } = incident;
  if (severity === undefined && impact === undefined) return undefined;
  // Impact@type is left out when unknown to the model: RFC 5070 gives it a default ('unknown').
  return make(
    'Assessment',
    {},
    make('Impact', {
      lang: impact?.lang,
      severity: severity === undefined ? undefined : toIodefSeverity(severity),
      completion: impact?.completion,
      ...(impact?.type === undefined ? {} : enumAttrs('type', impact.type, IMPACT_TYPES)),
    }),
  );
}

export function jidData(jid: string): Element {
  return make('AdditionalData', { dtype: 'xml' }, make('jid', { xmlns: JID_NS }, jid));
}

export function adminContact(jid: string): Element {
  return make('Contact', { role: 'admin', type: 'person' }, jidData(jid));
}

/** XEP-0268 v0.6 §Contact: the chatroom role, written in RFC 5070's strict extension form. */
/** The incident's handler at the sending site (RFC 5070 Contact role `tech`). */
export function techContact(jid: string): Element {
  return make('Contact', { role: 'tech', type: 'person' }, jidData(jid));
}

export function roomContact(room: string): Element {
  return make(
    'Contact',
    { role: 'ext-value', 'ext-role': CHATROOM_ROLE, type: 'ext-value', 'ext-type': CHATROOM_ROLE },
    jidData(room),
  );
}

export function encodeEventData(incident: Incident): Element | undefined {
  const systems = [...encodeSystems('source', incident.sources), ...encodeSystems('target', incident.targets)];
  if (systems.length === 0 && incident.expectation === undefined) return undefined;
  return make(
    'EventData',
    {},
    systems.length > 0 && make('Flow', {}, ...systems),
    incident.expectation && encodeExpectation(incident.expectation),
  );
}

export function encodeSystems(category: 'source' | 'target', nodes: readonly NetworkNode[]): Element[] {
  return nodes.flatMap(splitForPorts).map((node) => encodeSystem(category, node));
}

export type IpAddress = Extract<Address, { kind: 'ip' }>;

export function ipsOfNode(node: NetworkNode): IpAddress[] {
  return node.addresses.filter((a): a is IpAddress => a.kind === 'ip');
}

/**
 * One Node per System (RFC 5070), so a System/Service/Port unambiguously belongs to the node's single IP.
 * A node with several IP addresses of which some carry ports cannot say which port is whose in one System:
 * each further IP address then gets a System of its own. Peers still see every address with its port; only the
 * grouping into one node is lost (the one case where IODEF → model is not the model we started from).
 */
export function splitForPorts(node: NetworkNode): NetworkNode[] {
  const ips = ipsOfNode(node);
  if (ips.length <= 1 || ips.every((ip) => ip.port === undefined)) return [node];
  const rest = ips.slice(1);
  return [
    { ...node, addresses: node.addresses.filter((a) => !rest.includes(a as IpAddress)) },
    ...rest.map((ip): NetworkNode => ({ addresses: [ip], counters: [], roles: [] })),
  ];
}

export function encodeSystem(category: 'source' | 'target', node: NetworkNode): Element {
  const ips = ipsOfNode(node);
  const port = ips.length === 1 ? ips[0]?.port : undefined;
  return make(
    'System',
    { category },
    make(
      'Node',
      {},
      ...node.addresses.map(encodeAddress),
      ...node.roles.map((role) => make('NodeRole', enumAttrs('category', role, NODE_ROLES))),
      ...node.counters.map((c) => make('Counter', enumAttrs('type', c.type, COUNTER_TYPES), String(c.value))),
    ),
    port !== undefined && make('Service', { ip_protocol: TCP }, make('Port', {}, String(port))),
  );
}

export function encodeAddress(address: Address): Element {
  switch (address.kind) {
    case 'jid':
      return make('Address', enumAttrs('category', XMPP_ADDRESS, ADDRESS_CATEGORIES), address.value);
    case 'ip':
      // The port, if any, is written as System/Service/Port (see splitForPorts).
      return make('Address', { category: address.version === 6 ? 'ipv6-addr' : 'ipv4-addr' }, address.value);
    case 'other':
      return make('Address', enumAttrs('category', address.category, ADDRESS_CATEGORIES), address.value);
  }
}

export function actionAttrs(action: string): Record<string, string> {
  return enumAttrs('action', action, IODEF_ACTIONS);
}

export function encodeExpectation(expectation: Expectation): Element {
  return make('Expectation', actionAttrs(expectation.action), ...encodeDescriptions(expectation.texts));
}

export function encodeHistory(incident: Incident): Element | undefined {
  if (incident.history.length === 0 && incident.solutions.length === 0) return undefined;
  // A solution has no time of its own; the HistoryItem needs one, so take the best the incident has.
  const solutionTime = incident.times.report ?? incident.times.begin ?? EPOCH;
  return make(
    'History',
    {},
    ...incident.history.map(encodeHistoryItem),
    ...incident.solutions.map((s) => encodeSolution(s, solutionTime)),
  );
}

export function encodeHistoryItem(item: HistoryItem): Element {
  return make(
    'HistoryItem',
    actionAttrs(item.action),
    make('DateTime', {}, item.time),
    item.who !== undefined && make('Contact', { role: 'admin', type: 'person' }, jidData(item.who)),
    ...encodeDescriptions(item.texts),
  );
}

/**
 * A legacy solution as an IODEF HistoryItem that IODEF-only peers can read (action + Description), with the
 * exact legacy shape in AdditionalData so that it decodes back into `solutions`. The legacy shape keeps, per
 * source node, its JIDs then its IPs: counters, roles and other addresses of solution sources are not carried.
 */
export function encodeSolution(solution: Solution, fallbackTime: string): Element {
  return make(
    'HistoryItem',
    { action: solution.sources.length > 0 ? 'block-host' : 'remediate-other' },
    make('DateTime', {}, solution.time ?? fallbackTime),
    solution.who !== undefined && make('Contact', { role: 'admin', type: 'person' }, jidData(solution.who)),
    ...encodeDescriptions(solution.texts),
    make(
      'AdditionalData',
      { dtype: 'xml', meaning: SOLUTION_MEANING },
      make(
        'solution',
        // time/by mark what the HistoryItem's DateTime and Contact really say (absent: a stand-in time).
        { xmlns: LEGACY_NS, time: solution.time, by: solution.who },
        ...solution.sources.map(encodeLegacySource),
        ...solution.texts.map((t) => make('text', { 'xml:lang': t.lang }, t.text)),
      ),
    ),
  );
}

export function encodeLegacySource(node: NetworkNode): Element {
  const jids = node.addresses.flatMap((a) => (a.kind === 'jid' ? [a.value] : []));
  const ips = ipsOfNode(node).map((ip) => formatIp(ip.value, ip.version, ip.port));
  return make(
    'source',
    {},
    jids.length > 0 && make('jids', {}, ...jids.map((j) => make('jid', {}, j))),
    ips.length > 0 && make('ips', {}, ...ips.map((ip) => make('ip', {}, ip))),
  );
}

/** Legacy category/types, carried losslessly in the legacy `<info>` shape. */
export function encodeInfo(incident: Incident): Element | undefined {
  if (incident.category === undefined && incident.types.length === 0) return undefined;
  return make(
    'AdditionalData',
    { dtype: 'xml', meaning: INFO_MEANING },
    make(
      'info',
      { xmlns: LEGACY_NS },
      incident.category !== undefined && make('category', {}, incident.category),
      ...incident.types.map((t) => make('type', {}, t)),
    ),
  );
}
