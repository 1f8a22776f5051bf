/**
 * Encoding of the legacy XEP-0268 format (v0.2/v0.3, `urn:xmpp:incident:0`): strict and tidy. Decoding, and the
 * format's description, are in legacy.ts.
 */
import xml from '@xmpp/xml';
import { formatIp, type Address, type Incident, type LocalizedText, type NetworkNode, type Solution } from './incident.js';
import { LEGACY_NS } from './iodef-vocabulary.js';
import { toLegacy } from './translate.js';
import type { Element } from './xml.js';

/**
 * Builds `<incident xmlns=LEGACY_NS id=…>` with `<description>` and one `<solution>` per model solution, from
 * toLegacy(incident): so a non-UUID id goes out as its derived UUID (legacyIdFor), fields legacy cannot carry are
 * dropped, and a 'resolved' status without solutions reads as 'new' on the other side. Empty containers are
 * omitted; `<description>` is always present; times.end === null becomes `<end/>`.
 */
export function encodeLegacy(incident: Incident): Element {
  const l = toLegacy(incident);
  return make('incident', { xmlns: LEGACY_NS, id: l.id }, encodeDescription(l), ...l.solutions.map(encodeSolution));
}

function encodeDescription(l: Incident): Element {
  return make(
    'description',
    {},
    encodeDiscuss(l),
    encodeInfo(l),
    list('locs', 'loc', l.targets.flatMap((n) => jidValues(n.addresses))),
    list('rels', 'rel', l.related.map((r) => r.id)),
    l.severity === undefined ? undefined : make('severity', {}, String(l.severity)),
    encodeSource(l.sources),
    ...l.texts.map(encodeText),
    encodeTime(l.times),
  );
}

function encodeDiscuss(l: Incident): Element | undefined {
  if (l.admins.length === 0 && l.room === undefined) return undefined;
  return make(
    'discuss',
    {},
    ...l.admins.map((a) => make('admin', {}, a)),
    l.room === undefined ? undefined : make('muc', {}, l.room),
  );
}

function encodeInfo(l: Incident): Element | undefined {
  if (l.category === undefined && l.types.length === 0) return undefined;
  return make(
    'info',
    {},
    l.category === undefined ? undefined : make('category', {}, l.category),
    ...l.types.map((t) => make('type', {}, t)),
  );
}

function encodeSource(nodes: readonly NetworkNode[]): Element | undefined {
  const addresses = nodes.flatMap((n) => n.addresses);
  const ips = addresses.flatMap((a) => (a.kind === 'ip' ? [formatIp(a.value, a.version, a.port)] : []));
  const jids = jidValues(addresses);
  if (jids.length === 0 && ips.length === 0) return undefined;
  return make('source', {}, list('jids', 'jid', jids), list('ips', 'ip', ips));
}

function encodeText(t: LocalizedText): Element {
  return make('text', t.lang === undefined ? {} : { 'xml:lang': t.lang }, t.text);
}

function encodeTime(times: Incident['times']): Element | undefined {
  const { begin, end, report } = times;
  if (begin === undefined && end === undefined && report === undefined) return undefined;
  return make(
    'time',
    {},
    begin === undefined ? undefined : make('begin', {}, begin),
    end === undefined ? undefined : end === null ? make('end', {}) : make('end', {}, end),
    report === undefined ? undefined : make('report', {}, report),
  );
}

function encodeSolution(s: Solution): Element {
  return make('solution', {}, encodeSource(s.sources), ...s.texts.map(encodeText));
}

/** `<container><item>v</item>…</container>`, or nothing for an empty list. */
function list(container: string, item: string, values: readonly string[]): Element | undefined {
  return values.length === 0 ? undefined : make(container, {}, ...values.map((v) => make(item, {}, v)));
}

function jidValues(addresses: readonly Address[]): string[] {
  return addresses.flatMap((a) => (a.kind === 'jid' ? [a.value] : []));
}

/** xml() with optional children: absent parts of the incident are simply left out. */
function make(name: string, attrs: Record<string, string>, ...children: Array<Element | string | undefined>): Element {
  return xml(name, attrs, ...children.filter((c): c is Element | string => c !== undefined));
}
