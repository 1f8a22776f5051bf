/**
 * The IODEF codec (XEP-0268 v0.4–v0.6, namespace urn:xmpp:incident:2): RFC 5070 `<Incident>` documents inside
 * `<report/>`, `<inquiry/>`, `<request/>` and `<response/>` wrappers ⇄ the format-neutral model of incident.ts.
 *
 * Pure: no I/O, no clock. Decoding is liberal (the XEP's own examples are sloppy: `category='ext-category'`,
 * `role='ext-type'`, two Nodes in one System, jid in urn:xmpp:incident:2, an unknown HistoryItem action) and never
 * throws: anything it cannot understand is a `Decoded` failure naming the element path. Encoding is strict RFC 5070
 * (`ext-value` + `ext-<attr>` for every extension, elements in schema order, one Node per System).
 *
 * Decisions the model forces (see also the comments at each spot):
 * - Systems other than source/target (intermediate, sensor, infrastructure, extensions) are dropped: the model
 *   has only `sources` and `targets`.
 * - A port has no place in an IODEF Address: it travels as `System/Service/Port` (one Node per System, so the
 *   port belongs to that node's single IP address).
 * - Legacy `<info>` (category/types) and legacy `<solution>`s ride in IODEF `AdditionalData` so they survive
 *   the trip through IODEF unchanged.
 */
import xml from '@xmpp/xml';
import {
  IODEF_ACTIONS,
  INCIDENT_PURPOSES,
  INCIDENT_STATUSES,
  emptyIncident,
  formatIp,
  type Address,
  type Counter,
  type Expectation,
  type HistoryItem,
  type Impact,
  type Incident,
  type IncidentStatus,
  type IncidentTimes,
  type IodefKind,
  type LocalizedText,
  type NetworkNode,
  type RelatedIncident,
  type Solution,
} from './incident.js';
import { IODEF_SEVERITIES, fromIodefSeverity, toIodefSeverity, type IodefSeverity } from './severity.js';
import { DecodeFailure, checkDateTime, checkJid, clip, fail, ok, parseIp, type Decoded } from './validate.js';
import { DEFAULT_LIMITS, Element, checkShape, nsOf, textOf } from './xml.js';

export const INCIDENT_NS = 'urn:xmpp:incident:2';
export const IODEF_NS = 'urn:ietf:params:xml:ns:iodef-1.0';
export const JID_NS = 'urn:xmpp:jid:0';
/** The legacy namespace: its `<info>` and `<solution>` shapes are reused inside IODEF AdditionalData. */
const LEGACY_NS = 'urn:xmpp:incident:0';

export interface IodefEnvelope {
  kind: IodefKind;
  incident: Incident;
  /**
   * What was odd but accepted (liberal intake): short lines such as "Incident/Assessment/Impact: type='ext-value'
   * without ext-type", kept with the incident and shown by `!show`. Absent for a clean document.
   */
  notes?: string[];
}

export interface DecodeOptions {
  /** The sender's domain: the issuing site of an IncidentID without `name` (Metronome's inquiries). */
  senderDomain?: string;
}

/** At most this many intake notes per document: a document odd everywhere is summed up, not copied. */
const MAX_INTAKE_NOTES = 20;

const IODEF_KINDS: readonly IodefKind[] = ['report', 'inquiry', 'request', 'response'];

/** Incident@purpose is required by RFC 5070; when a peer omits it we assume what the wrapper implies. */
const DEFAULT_PURPOSE: Record<IodefKind, string> = {
  report: 'reporting',
  inquiry: 'traceback',
  request: 'mitigation',
  response: 'mitigation',
};

/** IODEF does not make IncidentID a UUID; this bound only keeps hostile ids out of logs and the store. */
const MAX_ID_LENGTH = 256;

const IMPACT_TYPES = [
  'admin',
  'dos',
  'extortion',
  'file',
  'info-leak',
  'misconfiguration',
  'recon',
  'policy',
  'social-engineering',
  'user',
  'unknown',
] as const;
const COMPLETIONS = ['failed', 'succeeded'] as const;
const SYSTEM_CATEGORIES = ['source', 'target', 'intermediate', 'sensor', 'infrastructure'] as const;
/** RFC 5070 Address@category values; anything else is sent as an extension. */
const ADDRESS_CATEGORIES = [
  'asn',
  'atm',
  'e-mail',
  'mac',
  'ipv4-addr',
  'ipv4-net',
  'ipv4-net-mask',
  'ipv6-addr',
  'ipv6-net',
  'ipv6-net-mask',
] as const;
/** RFC 5070 Counter@type values; XEP-0268's `xmpp-presence` etc. are sent as extensions. */
const COUNTER_TYPES = [
  'byte',
  'packet',
  'flow',
  'session',
  'alert',
  'message',
  'event',
  'host',
  'site',
  'organization',
] as const;
/** RFC 5070 NodeRole@category values; XEP-0268's xmpp, xmpp-muc, … are sent as extensions. */
const NODE_ROLES = [
  'client',
  'server-internal',
  'server-public',
  'www',
  'mail',
  'messaging',
  'streaming',
  'voice',
  'file',
  'ftp',
  'p2p',
  'name',
  'directory',
  'credential',
  'print',
  'application',
  'database',
  'infra',
  'log',
] as const;

/** XEP-0268's extension values. */
const XMPP_ADDRESS = 'xmpp';
const CHATROOM_ROLE = 'chatroom';
const ADMIN_ROLES = ['admin', 'creator'];

/** AdditionalData@meaning marking this project's lossless carriers of legacy data. */
const INFO_MEANING = 'xmpp-incident-info';
const SOLUTION_MEANING = 'xmpp-incident-solution';
/** Service@ip_protocol is required by RFC 5070; XMPP runs over TCP. */
const TCP = '6';
/** A solution has no time in the model, but a HistoryItem needs a DateTime. */
const EPOCH = '1970-01-01T00:00:00Z';

// ───────────────────────────────────────── decoding ─────────────────────────────────────────

/**
 * Decodes a wrapper (`<report/>`, `<inquiry/>`, `<request/>`, `<response/>` in INCIDENT_NS) or a bare v0.4
 * `<Incident>` (IODEF_NS, counted as a report). Never throws.
 */
export function decodeIodef(el: Element, opts: DecodeOptions = {}): Decoded<IodefEnvelope> {
  // Decoding is synchronous: one document at a time uses these.
  intake = { notes: [], dropped: 0, senderDomain: opts.senderDomain };
  try {
    // Bound the tree first: the walk below recurses (nested EventData) and copies text.
    const shape = checkShape(el, DEFAULT_LIMITS);
    if (shape) return fail(shape.path, shape.message);
    const envelope = decodeEnvelope(el);
    if (intake.dropped > 0) intake.notes.push(`… and ${intake.dropped} more oddities`);
    if (intake.notes.length > 0) envelope.notes = intake.notes;
    return ok(envelope);
  } catch (err) {
    if (err instanceof DecodeFailure) return fail(err.path, err.reason);
    // Not expected; still a hostile peer must never be able to crash the caller.
    return fail(safeName(el), `cannot decode: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The incident:2 wrapper (or a v0.4 bare Incident) among an IQ's children; undefined if none. */
export function findIodefPayload(iq: Element): Element | undefined {
  for (const child of iq.children) {
    if (child instanceof Element && isIodefPayload(child)) return child;
  }
  return undefined;
}

function isIodefPayload(el: Element): boolean {
  const name = el.getName();
  return (isKind(name) && nsOf(el) === INCIDENT_NS) || (name === 'Incident' && nsOf(el) === IODEF_NS);
}

/**
 * An element being decoded, with what child lookups need so that they do not recompute it on every lookup: its
 * namespaces and its child elements grouped by local name. Its path from the decoded root (for error messages)
 * is only spelled out when a message needs it.
 */
class At {
  /** Child elements by local name, in document order; built on the first lookup (the tree is not modified). */
  byName: Map<string, readonly At[]> | undefined = undefined;

  constructor(
    readonly el: Element,
    /** nsOf(el). */
    readonly ns: string | undefined,
    /** el.findNS(): the default namespace of its children that declare none. */
    readonly scopeNs: string | undefined,
    private readonly up: At | undefined,
    /** What the lookup that found it found (itself included): its position, when there are several. */
    private readonly found: readonly At[] | undefined,
  ) {}

  static root(el: Element): At {
    return new At(el, knownNs(nsOf(el)), knownNs(el.findNS() || undefined), undefined, undefined);
  }

  /** Such as `report/Incident/EventData/Flow/System[2]`: a position only when there are several, as in the XML. */
  get path(): string {
    const name = this.el.getName();
    const found = this.found;
    const here = found !== undefined && found.length > 1 ? `${name}[${found.indexOf(this) + 1}]` : name;
    return this.up === undefined ? here : `${this.up.path}/${here}`;
  }
}

function bad(path: string, message: string): never {
  throw new DecodeFailure(path, message);
}

/** The document being decoded: its intake notes, and the sender's domain. */
let intake: { notes: string[]; dropped: number; senderDomain: string | undefined } = { notes: [], dropped: 0, senderDomain: undefined };

/**
 * Something odd that a real peer sends and that does not stop us understanding the report: accepted, and noted.
 * The path drops the wrapper (`report/`), which says nothing.
 */
function odd(at: At, message: string): void {
  if (intake.notes.length >= MAX_INTAKE_NOTES) {
    intake.dropped += 1;
    return;
  }
  const path = at.path;
  const slash = path.indexOf('/');
  intake.notes.push(`${slash === -1 ? path : path.slice(slash + 1)}: ${message}`);
}

function safeName(el: unknown): string {
  return el instanceof Element ? el.getName() : '/';
}

function isKind(name: string): name is IodefKind {
  return (IODEF_KINDS as readonly string[]).includes(name);
}

/** For kids(): accept a child in whatever namespace (sloppy legacy-style content). */
const ANY_NS = null;

/** Which namespaces kids() accepts: one, any of a list, or any at all. */
type NsFilter = string | readonly string[] | typeof ANY_NS;

/**
 * Child elements named `name` in namespace `ns` (IODEF by default, any with ANY_NS), in document order.
 * Read-only: usually the very list the parent's index holds.
 */
function kids(parent: At, name: string, ns: NsFilter = IODEF_NS): readonly At[] {
  const named = childrenByName(parent).get(name);
  if (named === undefined) return NONE;
  if (ns === ANY_NS || allInNamespace(named, ns)) return named;
  // Some are in another namespace: the others are numbered among themselves in paths.
  const found: At[] = [];
  for (const at of named) {
    if (inNamespace(at, ns)) found.push(new At(at.el, at.ns, at.scopeNs, parent, found));
  }
  return found;
}

const NONE: readonly At[] = [];

function kid(parent: At, name: string, ns: NsFilter = IODEF_NS): At | undefined {
  return kids(parent, name, ns)[0];
}

/**
 * The `grandName` children of every `name` child, in document order (every Service/Port of a System, say).
 * A loop rather than flatMap: V8's flatMap costs about ten times as much on these small arrays.
 */
function grandKids(
  parent: At,
  name: string,
  grandName: string,
  grandNs: NsFilter = IODEF_NS,
  ns: NsFilter = IODEF_NS,
): At[] {
  const result: At[] = [];
  for (const child of kids(parent, name, ns)) {
    for (const grandChild of kids(child, grandName, grandNs)) result.push(grandChild);
  }
  return result;
}

function inNamespace(at: At, ns: string | readonly string[]): boolean {
  return typeof ns === 'string' ? at.ns === ns : ns.includes(at.ns ?? '');
}

function allInNamespace(ats: readonly At[], ns: string | readonly string[]): boolean {
  for (const at of ats) if (!inNamespace(at, ns)) return false;
  return true;
}

/** The child elements of `parent` by local name, in document order: one pass over the children per element. */
function childrenByName(parent: At): Map<string, readonly At[]> {
  if (parent.byName !== undefined) return parent.byName;
  const byName = new Map<string, At[]>();
  for (const child of parent.el.children) {
    // The same test as Element#getChildElements: text (strings, numbers) is not an element.
    if (!(child instanceof Element)) continue;
    const name = child.getName();
    let named = byName.get(name);
    if (named === undefined) byName.set(name, (named = []));
    named.push(childAt(parent, child, named));
  }
  parent.byName = byName;
  return byName;
}

/**
 * A child with its namespaces, without walking up the ancestors again as nsOf() would: an unprefixed child
 * without its own xmlns is in the parent's default namespace. Prefixed names, and elements whose parent pointer
 * is not the element we came from (a tree assembled by hand), are looked up the ltx way.
 */
function childAt(parent: At, el: Element, found: readonly At[]): At {
  if (el.parent !== parent.el) return new At(el, knownNs(nsOf(el)), knownNs(el.findNS() || undefined), parent, found);
  const own: unknown = el.attrs.xmlns;
  const scopeNs = own ? knownNs(own as string) : parent.scopeNs;
  const ns = el.name.includes(':') ? knownNs(nsOf(el)) : scopeNs;
  return new At(el, ns, scopeNs, parent, found);
}

/**
 * The namespaces the decoder compares with, keyed by themselves. A parsed xmlns is a slice of the stanza text:
 * swapping it for the equal constant once lets every later comparison succeed on identity instead of comparing
 * characters (about a tenth of the decode time in a profile).
 */
const KNOWN_NAMESPACES = new Map([IODEF_NS, INCIDENT_NS, JID_NS, LEGACY_NS].map((ns) => [ns, ns]));

function knownNs(ns: string | undefined): string | undefined {
  return ns === undefined ? undefined : (KNOWN_NAMESPACES.get(ns) ?? ns);
}

function attr(at: At, name: string): string | undefined {
  const value: unknown = at.el.attrs[name];
  return typeof value === 'string' ? value : undefined;
}

function decodeEnvelope(el: Element): IodefEnvelope {
  const root = At.root(el);
  const name = el.getName();
  if (name === 'Incident') {
    // XEP-0268 v0.4 put the Incident directly in the IQ; v0.5 made that a <report/>.
    requireIodefNs(root);
    return { kind: 'report', incident: decodeIncident(root, 'report', 'new') };
  }
  if (!isKind(name)) {
    const expected = 'an incident wrapper (report, inquiry, request, response) or an IODEF <Incident>';
    bad(root.path, `<${clip(name)}/> is not ${expected}`);
  }
  const ns = nsOf(el);
  if (ns !== INCIDENT_NS) bad(root.path, `<${name}/> must be in namespace ${INCIDENT_NS}, not ${clip(ns ?? '(none)')}`);
  const status = name === 'report' ? reportStatus(root) : 'new';
  return { kind: name, incident: decodeIncident(onlyIncident(root), name, status) };
}

/** This project carries the v0.6 report status as <report status='…'/> (facts page); absent means new. */
function reportStatus(report: At): IncidentStatus {
  const status = attr(report, 'status');
  if (status === undefined) return 'new';
  if (!(INCIDENT_STATUSES as readonly string[]).includes(status)) {
    odd(report, `status '${clip(status)}' is not one of ${INCIDENT_STATUSES.join(', ')}: read as 'updated'`);
    return 'updated';
  }
  return status as IncidentStatus;
}

/** The wrapper holds exactly one Incident (XEP-0268 schema: minOccurs=maxOccurs=1). */
function onlyIncident(wrapper: At): At {
  // Liberal: RFC 5070's own root <IODEF-Document> around the Incident is understood too.
  const doc = kid(wrapper, 'IODEF-Document', IODEF_NS);
  const holder = doc ?? wrapper;
  const incidents = kids(holder, 'Incident', ANY_NS);
  if (incidents.length === 0) bad(holder.path, `no IODEF <Incident> inside <${holder.el.getName()}/>`);
  if (incidents.length > 1) bad(holder.path, `exactly one <Incident> allowed, found ${incidents.length}`);
  const incident = incidents[0]!;
  requireIodefNs(incident);
  return incident;
}

function requireIodefNs(incident: At): void {
  const ns = nsOf(incident.el);
  if (ns !== IODEF_NS) bad(incident.path, `<Incident> must be in namespace ${IODEF_NS}, not ${clip(ns ?? '(none)')}`);
}

function decodeIncident(at: At, kind: IodefKind, status: IncidentStatus): Incident {
  const { id, site } = incidentId(at);
  const incident = emptyIncident(id, status);
  incident.site = site;
  incident.purpose = purpose(at, kind);
  incident.times = times(at);
  incident.texts = descriptions(at);
  decodeContacts(at, incident);
  incident.related = relatedIncidents(at);
  decodeAssessment(at, incident);
  for (const ev of kids(at, 'EventData')) decodeEventData(ev, incident);
  decodeHistory(at, incident);
  for (const data of kids(at, 'AdditionalData')) {
    for (const info of kids(data, 'info', ANY_NS)) decodeInfo(info, incident);
  }
  return incident;
}

function incidentId(incident: At): { id: string; site: string } {
  const ids = kids(incident, 'IncidentID');
  if (ids.length === 0) bad(incident.path, 'missing IncidentID (required by RFC 5070)');
  // Two ids would make it ambiguous which incident this is.
  if (ids.length > 1) bad(incident.path, `exactly one IncidentID allowed, found ${ids.length}`);
  const at = ids[0]!;
  const site = attr(at, 'name')?.trim();
  if (!site) {
    // Metronome's inquiries: the issuing site can only be the sender's (RFC 5070 requires the name).
    const sender = intake.senderDomain;
    if (!sender) bad(at.path, 'IncidentID needs a name (issuing site)');
    odd(at, 'IncidentID without name: site taken from the sender');
    return { id: idText(at), site: sender };
  }
  return { id: idText(at), site: boundedLabel(at, site, 'IncidentID name') };
}

function idText(at: At): string {
  return boundedLabel(at, textOf(at.el), 'IncidentID');
}

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/u;

/** Ids and site names end up in logs, chat messages and store keys: non-empty, short, no control characters. */
function boundedLabel(at: At, value: string, what: string): string {
  if (value.length === 0) bad(at.path, `${what} is empty`);
  if (value.length > MAX_ID_LENGTH) bad(at.path, `${what} is longer than ${MAX_ID_LENGTH} characters`);
  if (CONTROL_CHARACTER.test(value)) bad(at.path, `${what} '${clip(value)}' contains control characters`);
  return value;
}

/**
 * An enumerated attribute with IODEF's extension mechanism resolved. RFC 5070 writes `attr='ext-value'` plus
 * `ext-<attr>='name'`; XEP-0268's examples instead name the attribute that holds the extension
 * (`category='ext-category' ext-category='xmpp'`, `role='ext-type' ext-type='chatroom'`). Both are understood.
 * `extension` tells whether the value is an extension name (free) or a plain value (must be a known one).
 */
interface EnumValue {
  value: string;
  extension: boolean;
}

function resolveEnum(at: At, name: string): EnumValue | { error: string } | undefined {
  const value = attr(at, name);
  if (value === undefined) return undefined;
  const holder = value === 'ext-value' ? `ext-${name}` : value.startsWith('ext-') ? value : undefined;
  if (holder === undefined) return { value, extension: false };
  const ext = attr(at, holder)?.trim();
  if (ext) return { value: ext, extension: true };
  if (value === 'ext-value') return { error: `${name}='ext-value' needs a non-empty ext-${name} attribute` };
  return { value, extension: false }; // an 'ext-…' value without a matching attribute: judged as a plain value
}

/** An extension value without its name (`type='ext-value'` and no `ext-type`, which RFC 5070 allows) is noted, and
 * read as if the attribute were absent. */
function enumAttr(at: At, name: string): EnumValue | undefined {
  const resolved = resolveEnum(at, name);
  if (resolved && 'error' in resolved) {
    odd(at, `${name}='ext-value' without ext-${name}`);
    return undefined;
  }
  return resolved;
}

/**
 * An enumerated attribute whose plain values are a closed list (extensions stay free). A value outside it is
 * kept as an extension and noted: an odd spelling loses nothing.
 */
function closedEnum(at: At, name: string, allowed: readonly string[]): string | undefined {
  const resolved = enumAttr(at, name);
  if (resolved && !resolved.extension && !allowed.includes(resolved.value)) {
    odd(at, `${name} '${clip(resolved.value)}' is not one of ${allowed.join(', ')}: kept as an extension`);
  }
  return resolved?.value;
}

function purpose(incident: At, kind: IodefKind): string {
  const resolved = enumAttr(incident, 'purpose');
  if (resolved === undefined) return DEFAULT_PURPOSE[kind];
  if (!resolved.extension && !(INCIDENT_PURPOSES as readonly string[]).includes(resolved.value)) {
    odd(incident, `purpose '${clip(resolved.value)}' is not one of ${INCIDENT_PURPOSES.join(', ')}: read as '${DEFAULT_PURPOSE[kind]}'`);
    return DEFAULT_PURPOSE[kind];
  }
  return resolved.value;
}

const TIME_ELEMENTS = [
  ['StartTime', 'begin'],
  ['EndTime', 'end'],
  ['ReportTime', 'report'],
  ['DetectTime', 'detect'],
] as const;

function times(incident: At): IncidentTimes {
  const result: IncidentTimes = {};
  for (const [name, field] of TIME_ELEMENTS) {
    const at = kid(incident, name);
    if (!at) continue;
    const value = dateTime(at);
    if (value !== undefined) result[field] = value;
  }
  return result;
}

/** A time that is not XEP-0082 is kept as text in the intake notes, and not used (nor ordered by, nor sent on). */
function dateTime(at: At): string | undefined {
  const value = textOf(at.el);
  const problem = checkDateTime(value);
  if (problem) {
    odd(at, `${problem}: kept here as text, not used`);
    return undefined;
  }
  return value;
}

/** A loose BCP 47 shape (underscores tolerated): enough to keep markup and junk out of a language field. */
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$/;

function language(at: At, name: string): string | undefined {
  const lang = attr(at, name)?.trim();
  if (!lang) return undefined;
  if (!LANGUAGE_TAG.test(lang)) {
    odd(at, `${name} '${clip(lang)}' is not a language tag: ignored`);
    return undefined;
  }
  return lang;
}

/**
 * A text with its language. XEP-0268 writes xml:lang; RFC 5070's MLStringType spells it `lang`, so a peer
 * following the RFC is understood too (we send xml:lang, as the XEP does).
 */
function localized(at: At): LocalizedText | undefined {
  const text = textOf(at.el);
  if (!text) return undefined;
  const lang = language(at, 'xml:lang') ?? language(at, 'lang');
  return lang === undefined ? { text } : { text, lang };
}

/** Description elements; empty ones carry nothing and are skipped. */
function descriptions(parent: At): LocalizedText[] {
  return localizedTexts(kids(parent, 'Description'));
}

/** The non-empty texts among `elements`, in order. */
function localizedTexts(elements: readonly At[]): LocalizedText[] {
  const texts: LocalizedText[] = [];
  for (const at of elements) {
    const text = localized(at);
    if (text !== undefined) texts.push(text);
  }
  return texts;
}

/** A JID that is not one is noted and left out (undefined). */
function jidText(at: At): string | undefined {
  const value = textOf(at.el);
  const problem = checkJid(value);
  if (problem) {
    odd(at, `${problem}; left out`);
    return undefined;
  }
  return value;
}

/**
 * The XEP's `<jid/>` under Contact/AdditionalData: urn:xmpp:jid:0 since v0.6, urn:xmpp:incident:2 in v0.4, and —
 * as Metronome sends it — no namespace of its own (so the IODEF one), or none at all.
 */
const CONTACT_JID_NAMESPACES = [JID_NS, INCIDENT_NS, IODEF_NS, ''];

/** Every jid of a Contact, each checked. */
function contactJids(contact: At): string[] {
  const jids: string[] = [];
  for (const at of grandKids(contact, 'AdditionalData', 'jid', CONTACT_JID_NAMESPACES)) {
    const jid = jidText(at);
    if (jid !== undefined) jids.push(jid);
  }
  return jids;
}

function decodeContacts(incident: At, into: Incident): void {
  const seen = new Set<string>();
  for (const contact of kids(incident, 'Contact')) {
    // An unreadable role is not an error: the contact is simply none of the ones the model keeps.
    const role = resolveEnum(contact, 'role');
    const name = role && 'value' in role ? role.value : undefined;
    if (name !== undefined && ADMIN_ROLES.includes(name)) {
      for (const jid of contactJids(contact)) {
        if (seen.has(jidKey(jid))) continue; // the XEP's example lists the same admin twice
        seen.add(jidKey(jid));
        into.admins.push(jid);
      }
    } else if (name === CHATROOM_ROLE && into.room === undefined) {
      const room = contactJids(contact)[0]; // a non-XMPP chatroom (no jid) cannot be represented
      if (room !== undefined) into.room = room;
    }
  }
}

/** Local and domain parts compare case-insensitively; the resource does not. */
function jidKey(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid.toLowerCase() : jid.slice(0, slash).toLowerCase() + jid.slice(slash);
}

function relatedIncidents(incident: At): RelatedIncident[] {
  return grandKids(incident, 'RelatedActivity', 'IncidentID').map((at) => {
    const site = attr(at, 'name')?.trim();
    // Liberal: a related id without its site is still worth keeping (RFC 5070 wants the name).
    return site ? { id: idText(at), site: boundedLabel(at, site, 'IncidentID name') } : { id: idText(at) };
  });
}

/** The first Impact of the first Assessment carries what the model holds (severity, type, completion, lang). */
function decodeAssessment(incident: At, into: Incident): void {
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

function impactDetails(impact: At): Impact | undefined {
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
function decodeEventData(ev: At, into: Incident): void {
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

function decodeSystem(system: At, into: Incident): void {
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
function systemNodes(system: At): NetworkNode[] {
  const nodes = kids(system, 'Node').map(decodeNode);
  const roles = defined(kids(system, 'NodeRole').map(nodeRole));
  const counters = defined(kids(system, 'Counter').map(counter));
  for (const node of nodes) node.roles.push(...roles);
  nodes[0]?.counters.push(...counters);
  if (nodes.length === 1) applyServicePort(system, nodes[0]!);
  return nodes;
}

function decodeNode(node: At): NetworkNode {
  return {
    addresses: defined(kids(node, 'Address').map(address)),
    counters: defined(kids(node, 'Counter').map(counter)),
    roles: defined(kids(node, 'NodeRole').map(nodeRole)),
  };
}

function defined<T>(items: Array<T | undefined>): T[] {
  return items.filter((x): x is T => x !== undefined);
}

function address(at: At): Address | undefined {
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

const DIGITS = /^\d+$/;

function counter(at: At): Counter | undefined {
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

function nodeRole(at: At): string | undefined {
  const category = enumAttr(at, 'category')?.value;
  if (category === undefined) odd(at, 'NodeRole without a category: left out');
  return category;
}

const PORT_DIGITS = /^\d{1,5}$/;

/**
 * IODEF's Address has no port, so the port of an `ip:port` travels as System/Service/Port. It is read back
 * only when it is unambiguous: one Service Port and one IP address (without a port of its own) in the System.
 */
function applyServicePort(system: At, node: NetworkNode): void {
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

function decodeExpectation(at: At): Expectation {
  // RFC 5070: Expectation@action defaults to 'other'.
  const action = closedEnum(at, 'action', IODEF_ACTIONS) ?? 'other';
  return { action, texts: descriptions(at) };
}

function decodeHistory(incident: At, into: Incident): void {
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
function decodeHistoryItem(item: At): HistoryItem | undefined {
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
function historyAction(item: At): string {
  const resolved = resolveEnum(item, 'action');
  if (resolved === undefined) return 'other';
  return 'value' in resolved ? resolved.value : (attr(item, 'action') ?? 'other');
}

/** A HistoryItem carrying this project's `<solution/>` AdditionalData is a model solution, not history. */
function decodeSolution(item: At): Solution | undefined {
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

function legacySource(source: At): NetworkNode {
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
function decodeInfo(info: At, into: Incident): void {
  const category = kids(info, 'category', ANY_NS)
    .map((c) => textOf(c.el))
    .find((text) => text.length > 0);
  if (category !== undefined) into.category ??= category;
  for (const type of kids(info, 'type', ANY_NS)) {
    const text = textOf(type.el);
    if (text) into.types.push(text);
  }
}

// ───────────────────────────────────────── encoding ─────────────────────────────────────────

type Child = Element | string | undefined | false;

/** xml() with optional children: undefined/false ones are left out. */
function make(name: string, attrs: Record<string, string | undefined>, ...children: Child[]): Element {
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
function encodeIncident(kind: IodefKind, incident: Incident): Element {
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
    encodeEventData(incident),
    encodeHistory(incident),
    encodeInfo(incident),
  );
}

/** Strict extension form: known values plain, anything else as attr='ext-value' ext-attr='name'. */
function enumAttrs(name: string, value: string, known: readonly string[]): Record<string, string> {
  return known.includes(value) ? { [name]: value } : { [name]: 'ext-value', [`ext-${name}`]: value };
}

function encodeRelated(related: readonly RelatedIncident[]): Element | undefined {
  if (related.length === 0) return undefined;
  return make('RelatedActivity', {}, ...related.map((r) => make('IncidentID', { name: r.site }, r.id)));
}

function encodeTimes(times: IncidentTimes): Element[] {
  // Schema order. end === null ("still happening", legacy) has no IODEF form: no EndTime is the closest.
  const elements: Array<[string, string | null | undefined]> = [
    ['DetectTime', times.detect],
    ['StartTime', times.begin],
    ['EndTime', times.end],
    ['ReportTime', times.report],
  ];
  return elements.flatMap(([name, value]) => (typeof value === 'string' ? [make(name, {}, value)] : []));
}

function encodeDescriptions(texts: readonly LocalizedText[]): Element[] {
  return texts.map((t) => make('Description', { 'xml:lang': t.lang }, t.text));
}

function encodeAssessment(incident: Incident): Element | undefined {
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

function jidData(jid: string): Element {
  return make('AdditionalData', { dtype: 'xml' }, make('jid', { xmlns: JID_NS }, jid));
}

function adminContact(jid: string): Element {
  return make('Contact', { role: 'admin', type: 'person' }, jidData(jid));
}

/** XEP-0268 v0.6 §Contact: the chatroom role, written in RFC 5070's strict extension form. */
function roomContact(room: string): Element {
  return make(
    'Contact',
    { role: 'ext-value', 'ext-role': CHATROOM_ROLE, type: 'ext-value', 'ext-type': CHATROOM_ROLE },
    jidData(room),
  );
}

function encodeEventData(incident: Incident): Element | undefined {
  const systems = [...encodeSystems('source', incident.sources), ...encodeSystems('target', incident.targets)];
  if (systems.length === 0 && incident.expectation === undefined) return undefined;
  return make(
    'EventData',
    {},
    systems.length > 0 && make('Flow', {}, ...systems),
    incident.expectation && encodeExpectation(incident.expectation),
  );
}

function encodeSystems(category: 'source' | 'target', nodes: readonly NetworkNode[]): Element[] {
  return nodes.flatMap(splitForPorts).map((node) => encodeSystem(category, node));
}

type IpAddress = Extract<Address, { kind: 'ip' }>;

function ipsOfNode(node: NetworkNode): IpAddress[] {
  return node.addresses.filter((a): a is IpAddress => a.kind === 'ip');
}

/**
 * One Node per System (RFC 5070), so a System/Service/Port unambiguously belongs to the node's single IP.
 * A node with several IP addresses of which some carry ports cannot say which port is whose in one System:
 * each further IP address then gets a System of its own. Peers still see every address with its port; only the
 * grouping into one node is lost (the one case where IODEF → model is not the model we started from).
 */
function splitForPorts(node: NetworkNode): NetworkNode[] {
  const ips = ipsOfNode(node);
  if (ips.length <= 1 || ips.every((ip) => ip.port === undefined)) return [node];
  const rest = ips.slice(1);
  return [
    { ...node, addresses: node.addresses.filter((a) => !rest.includes(a as IpAddress)) },
    ...rest.map((ip): NetworkNode => ({ addresses: [ip], counters: [], roles: [] })),
  ];
}

function encodeSystem(category: 'source' | 'target', node: NetworkNode): Element {
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

function encodeAddress(address: Address): Element {
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

function actionAttrs(action: string): Record<string, string> {
  return enumAttrs('action', action, IODEF_ACTIONS);
}

function encodeExpectation(expectation: Expectation): Element {
  return make('Expectation', actionAttrs(expectation.action), ...encodeDescriptions(expectation.texts));
}

function encodeHistory(incident: Incident): Element | undefined {
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

function encodeHistoryItem(item: HistoryItem): Element {
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
function encodeSolution(solution: Solution, fallbackTime: string): Element {
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

function encodeLegacySource(node: NetworkNode): Element {
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
function encodeInfo(incident: Incident): Element | undefined {
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
