/** IODEF decoding of what happened: Assessment, EventData (systems, nodes, addresses, counters), Expectation,
 * History (and this project's carried legacy solutions) and legacy `<info>`. */
import { type Address, type Counter, type Expectation, type HistoryItem, type Impact, type Incident, IODEF_ACTIONS, type NetworkNode, type Solution } from './incident.js';
import { fromIodefSeverity, IODEF_SEVERITIES, type IodefSeverity } from './severity.js';
import { checkDateTime, checkJid, clip, parseIp } from './validate.js';
import { textOf } from './xml.js';
import { COMPLETIONS, IMPACT_TYPES, LEGACY_NS, SYSTEM_CATEGORIES, XMPP_ADDRESS } from './iodef-vocabulary.js';
import { ANY_NS, At, attr, grandKids, kid, kids, odd } from './iodef-reader.js';
import { closedEnum, contactJids, dateTime, descriptions, enumAttr, jidText, language, localizedTexts, resolveEnum } from './iodef-fields.js';

/** The first Impact of the first Assessment carries what the model holds (severity, type, completion, lang). */
export function decodeAssessment(incident: At, into: Incident): void {
  const impact = grandKids(incident, 'Assessment', 'Impact')[0];
  if (!impact) return;
  const severity = attr(impact, 'severity');
  if (severity !== undefined) {
    if ((IODEF_SEVERITIES as readonly string[]).includes(severity)) into.severity = fromIodefSeverity(severity as IodefSeverity);
    else odd(impact, `severity '${clip(severity)}' is not one of ${IODEF_SEVERITIES.join(', ')}: severity unknown`);
  }
  const details = impactDetails(impact);
  if (details) into.impact = details;
}

export function impactDetails(impact: At): Impact | undefined {
  const result: Impact = {};
  const type = closedEnum(impact, 'type', IMPACT_TYPES);
  if (type !== undefined) result.type = type;
  const completion = attr(impact, 'completion');
  if (completion !== undefined) {
    if ((COMPLETIONS as readonly string[]).includes(completion)) result.completion = completion as Impact['completion'];
    else odd(impact, `completion '${clip(completion)}' is not one of ${COMPLETIONS.join(', ')}: ignored`);
  }
  const lang = language(impact, 'lang');
  if (lang !== undefined) result.lang = lang;
  return Object.keys(result).length > 0 ? result : undefined;
}


/** EventData may nest (RFC 5070); checkShape already bounded how deep. */
export function decodeEventData(ev: At, into: Incident): void {
  for (const flow of kids(ev, 'Flow')) {
    for (const system of kids(flow, 'System')) decodeSystem(system, into);
  }
  // Every Expectation is checked; the model holds one, so the first wins.
  for (const expectation of kids(ev, 'Expectation')) {
    const decoded = decodeExpectation(expectation);
    into.expectation ??= decoded;
  }
  // XEP-0268 v0.4's example puts a legacy-style <info> (no namespace of its own) right in EventData.
  for (const info of kids(ev, 'info', ANY_NS)) decodeInfo(info, into);
  for (const nested of kids(ev, 'EventData')) decodeEventData(nested, into);
}

export function decodeSystem(system: At, into: Incident): void {
  const category = closedEnum(system, 'category', SYSTEM_CATEGORIES);
  if (category === undefined) {
    odd(system, `System without a category (${SYSTEM_CATEGORIES.join(', ')}): neither source nor target, left out`);
    return;
  }
  // The model has no place for intermediate, sensor, infrastructure or extension systems: dropped.
  if (category !== 'source' && category !== 'target') return;
  const nodes = systemNodes(system);
  (category === 'source' ? into.sources : into.targets).push(...nodes);
}

/**
 * RFC 5070 gives a System exactly one Node, but the XEP's examples put several in one System: each becomes a
 * NetworkNode. NodeRole and Counter may also sit on the System itself: a role describes every node of the
 * system, a count is not duplicated (it goes to the first node).
 */
export function systemNodes(system: At): NetworkNode[] {
  const nodes = kids(system, 'Node').map(decodeNode);
  const roles = defined(kids(system, 'NodeRole').map(nodeRole));
  const counters = defined(kids(system, 'Counter').map(counter));
  for (const node of nodes) node.roles.push(...roles);
  nodes[0]?.counters.push(...counters);
  if (nodes.length === 1) applyServicePort(system, nodes[0]!);
  return nodes;
}

export function decodeNode(node: At): NetworkNode {
  return {
    addresses: defined(kids(node, 'Address').map(address)),
    counters: defined(kids(node, 'Counter').map(counter)),
    roles: defined(kids(node, 'NodeRole').map(nodeRole)),
  };
}

export function defined<T>(items: Array<T | undefined>): T[] {
  return items.filter((x): x is T => x !== undefined);
}

export function address(at: At): Address | undefined {
  // RFC 5070: Address@category defaults to ipv4-addr.
  const category = enumAttr(at, 'category')?.value ?? 'ipv4-addr';
  const value = textOf(at.el);
  if (!value) {
    odd(at, 'empty Address: left out');
    return undefined;
  }
  if (category === XMPP_ADDRESS) {
    const jid = jidText(at);
    return jid === undefined ? undefined : { kind: 'jid', value: jid };
  }
  if (category === 'ipv4-addr' || category === 'ipv6-addr') {
    // parseIp also takes a sloppy 'addr:port' text; the strict form puts the port in System/Service/Port.
    const ip = parseIp(value);
    if (typeof ip !== 'string') return ip;
    odd(at, `${ip}: kept as text`);
  }
  return { kind: 'other', category, value };
}

export const DIGITS = /^\d+$/;

export function counter(at: At): Counter | undefined {
  const type = enumAttr(at, 'type')?.value;
  const text = textOf(at.el);
  const value = Number(text);
  if (type === undefined) {
    odd(at, `Counter '${clip(text)}' without a type: left out`);
    return undefined;
  }
  if (!DIGITS.test(text) || !Number.isSafeInteger(value)) {
    odd(at, `Counter value '${clip(text)}' is not a non-negative integer: left out`);
    return undefined;
  }
  return { type, value };
}

export function nodeRole(at: At): string | undefined {
  const category = enumAttr(at, 'category')?.value;
  if (category === undefined) odd(at, 'NodeRole without a category: left out');
  return category;
}

export const PORT_DIGITS = /^\d{1,5}$/;

/**
 * IODEF's Address has no port, so the port of an `ip:port` travels as System/Service/Port. It is read back
 * only when it is unambiguous: one Service Port and one IP address (without a port of its own) in the System.
 */
export function applyServicePort(system: At, node: NetworkNode): void {
  const ips = node.addresses.filter((a): a is Extract<Address, { kind: 'ip' }> => a.kind === 'ip');
  const ports = grandKids(system, 'Service', 'Port');
  const ip = ips[0];
  const port = ports[0];
  if (ips.length !== 1 || ports.length !== 1 || !ip || !port || ip.port !== undefined) return;
  const text = textOf(port.el);
  const value = Number(text);
  if (!PORT_DIGITS.test(text) || value < 1 || value > 65535) {
    odd(port, `Port '${clip(text)}' is not a port number (1–65535): left out`);
    return;
  }
  ip.port = value;
}

export function decodeExpectation(at: At): Expectation {
  // RFC 5070: Expectation@action defaults to 'other'.
  const action = closedEnum(at, 'action', IODEF_ACTIONS) ?? 'other';
  return { action, texts: descriptions(at) };
}

export function decodeHistory(incident: At, into: Incident): void {
  for (const history of kids(incident, 'History')) {
    for (const item of kids(history, 'HistoryItem')) {
      const solution = decodeSolution(item);
      if (solution) into.solutions.push(solution);
      else {
        const decoded = decodeHistoryItem(item);
        if (decoded) into.history.push(decoded);
      }
    }
  }
}

/** A HistoryItem without a usable DateTime is noted and left out: the model's history is ordered by time. */
export function decodeHistoryItem(item: At): HistoryItem | undefined {
  const dateTimeAt = kid(item, 'DateTime');
  if (!dateTimeAt) {
    odd(item, 'HistoryItem without a DateTime: left out');
    return undefined;
  }
  const time = dateTime(dateTimeAt);
  if (time === undefined) return undefined;
  const result: HistoryItem = { action: historyAction(item), time, texts: descriptions(item) };
  // Every Contact's jids are checked; the first one is who did it.
  for (const contact of kids(item, 'Contact')) {
    const jids = contactJids(contact);
    if (result.who === undefined && jids.length > 0) result.who = jids[0];
  }
  return result;
}

/**
 * What was done is history, not a command: an action outside RFC 5070 (the XEP's own example says
 * 'blockquote') is kept as written rather than rejected; a missing one reads as 'other'.
 */
export function historyAction(item: At): string {
  const resolved = resolveEnum(item, 'action');
  if (resolved === undefined) return 'other';
  return 'value' in resolved ? resolved.value : (attr(item, 'action') ?? 'other');
}

/** A HistoryItem carrying this project's `<solution/>` AdditionalData is a model solution, not history. */
export function decodeSolution(item: At): Solution | undefined {
  const solution = grandKids(item, 'AdditionalData', 'solution', LEGACY_NS)[0];
  if (!solution) return undefined;
  const texts = localizedTexts(kids(solution, 'text', LEGACY_NS));
  const time = attr(solution, 'time');
  const who = attr(solution, 'by');
  return {
    // The HistoryItem's Descriptions repeat the texts for IODEF-only readers; the legacy copy is authoritative.
    texts: texts.length > 0 ? texts : descriptions(item),
    sources: kids(solution, 'source', LEGACY_NS).map(legacySource),
    ...(time !== undefined && checkDateTime(time) === undefined ? { time } : {}),
    ...(who !== undefined && checkJid(who) === undefined ? { who } : {}),
  };
}

export function legacySource(source: At): NetworkNode {
  const jids = grandKids(source, 'jids', 'jid', LEGACY_NS, LEGACY_NS);
  const ips = grandKids(source, 'ips', 'ip', LEGACY_NS, LEGACY_NS);
  const addresses: Address[] = [];
  for (const at of jids) {
    const jid = jidText(at);
    if (jid !== undefined) addresses.push({ kind: 'jid', value: jid });
  }
  for (const at of ips) {
    const text = textOf(at.el);
    const ip = parseIp(text);
    if (typeof ip !== 'string') addresses.push(ip);
    else {
      odd(at, `${ip}: kept as text`);
      addresses.push({ kind: 'other', category: 'ipv4-addr', value: text });
    }
  }
  return { addresses, counters: [], roles: [] };
}

/** Legacy `<info>`: the first category wins, types accumulate. */
export function decodeInfo(info: At, into: Incident): void {
  const category = kids(info, 'category', ANY_NS)
    .map((c) => textOf(c.el))
    .find((text) => text.length > 0);
  if (category !== undefined) into.category ??= category;
  for (const type of kids(info, 'type', ANY_NS)) {
    const text = textOf(type.el);
    if (text) into.types.push(text);
  }
}
