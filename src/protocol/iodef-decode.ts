/**
 * IODEF decoding, the document level: wrapper, Incident, IncidentID, purpose, times, texts and contacts. Liberal:
 * only what cannot be identified is refused (`bad`); the rest is accepted and noted (`odd`). Never throws.
 */
import { emptyIncident, type Incident, INCIDENT_PURPOSES, INCIDENT_STATUSES, type IncidentStatus, type IncidentTimes, type IodefKind, type RelatedIncident } from './incident.js';
import { clip, type Decoded, DecodeFailure, fail, ok } from './validate.js';
import { checkShape, DEFAULT_LIMITS, Element, nsOf, textOf } from './xml.js';
import { ADMIN_ROLES, CHATROOM_ROLE, DEFAULT_PURPOSE, INCIDENT_NS, IODEF_NS, MAX_ID_LENGTH } from './iodef-vocabulary.js';
import { ANY_NS, At, attr, bad, beginIntake, grandKids, intakeNotes, intakeSenderDomain, isKind, kid, kids, odd, safeName } from './iodef-reader.js';
import { contactJids, dateTime, descriptions, enumAttr, resolveEnum } from './iodef-fields.js';
import { decodeAssessment, decodeEventData, decodeHistory, decodeInfo } from './iodef-decode-events.js';

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



/**
 * Decodes a wrapper (`<report/>`, `<inquiry/>`, `<request/>`, `<response/>` in INCIDENT_NS) or a bare v0.4
 * `<Incident>` (IODEF_NS, counted as a report). Never throws.
 */
export function decodeIodef(el: Element, opts: DecodeOptions = {}): Decoded<IodefEnvelope> {
  beginIntake(opts.senderDomain);
  try {
    // Bound the tree first: the walk below recurses (nested EventData) and copies text.
    const shape = checkShape(el, DEFAULT_LIMITS);
    if (shape) return fail(shape.path, shape.message);
    const envelope = decodeEnvelope(el);
    const notes = intakeNotes();
    if (notes.length > 0) envelope.notes = notes;
    return ok(envelope);
  } catch (err) {
    if (err instanceof DecodeFailure) return fail(err.path, err.reason);
    // Not expected; still a hostile peer must never be able to crash the caller.
    return fail(safeName(el), `cannot decode: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function decodeEnvelope(el: Element): IodefEnvelope {
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
export function reportStatus(report: At): IncidentStatus {
  const status = attr(report, 'status');
  if (status === undefined) return 'new';
  if (!(INCIDENT_STATUSES as readonly string[]).includes(status)) {
    odd(report, `status '${clip(status)}' is not one of ${INCIDENT_STATUSES.join(', ')}: read as 'updated'`);
    return 'updated';
  }
  return status as IncidentStatus;
}

/** The wrapper holds exactly one Incident (XEP-0268 schema: minOccurs=maxOccurs=1). */
export function onlyIncident(wrapper: At): At {
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

export function requireIodefNs(incident: At): void {
  const ns = nsOf(incident.el);
  if (ns !== IODEF_NS) bad(incident.path, `<Incident> must be in namespace ${IODEF_NS}, not ${clip(ns ?? '(none)')}`);
}

export function decodeIncident(at: At, kind: IodefKind, status: IncidentStatus): Incident {
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

export function incidentId(incident: At): { id: string; site: string } {
  const ids = kids(incident, 'IncidentID');
  if (ids.length === 0) bad(incident.path, 'missing IncidentID (required by RFC 5070)');
  // Two ids would make it ambiguous which incident this is.
  if (ids.length > 1) bad(incident.path, `exactly one IncidentID allowed, found ${ids.length}`);
  const at = ids[0]!;
  const site = attr(at, 'name')?.trim();
  if (!site) {
    // Metronome's inquiries: the issuing site can only be the sender's (RFC 5070 requires the name).
    const sender = intakeSenderDomain();
    if (!sender) bad(at.path, 'IncidentID needs a name (issuing site)');
    odd(at, 'IncidentID without name: site taken from the sender');
    return { id: idText(at), site: sender };
  }
  return { id: idText(at), site: boundedLabel(at, site, 'IncidentID name') };
}

export function idText(at: At): string {
  return boundedLabel(at, textOf(at.el), 'IncidentID');
}

export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/u;

/** Ids and site names end up in logs, chat messages and store keys: non-empty, short, no control characters. */
export function boundedLabel(at: At, value: string, what: string): string {
  if (value.length === 0) bad(at.path, `${what} is empty`);
  if (value.length > MAX_ID_LENGTH) bad(at.path, `${what} is longer than ${MAX_ID_LENGTH} characters`);
  if (CONTROL_CHARACTER.test(value)) bad(at.path, `${what} '${clip(value)}' contains control characters`);
  return value;
}

export function purpose(incident: At, kind: IodefKind): string {
  const resolved = enumAttr(incident, 'purpose');
  if (resolved === undefined) return DEFAULT_PURPOSE[kind];
  if (!resolved.extension && !(INCIDENT_PURPOSES as readonly string[]).includes(resolved.value)) {
    odd(incident, `purpose '${clip(resolved.value)}' is not one of ${INCIDENT_PURPOSES.join(', ')}: read as '${DEFAULT_PURPOSE[kind]}'`);
    return DEFAULT_PURPOSE[kind];
  }
  return resolved.value;
}

export const TIME_ELEMENTS = [
  ['StartTime', 'begin'],
  ['EndTime', 'end'],
  ['ReportTime', 'report'],
  ['DetectTime', 'detect'],
] as const;

export function times(incident: At): IncidentTimes {
  const result: IncidentTimes = {};
  for (const [name, field] of TIME_ELEMENTS) {
    const at = kid(incident, name);
    if (!at) continue;
    const value = dateTime(at);
    if (value !== undefined) result[field] = value;
  }
  return result;
}

export function decodeContacts(incident: At, into: Incident): void {
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
export function jidKey(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid.toLowerCase() : jid.slice(0, slash).toLowerCase() + jid.slice(slash);
}

export function relatedIncidents(incident: At): RelatedIncident[] {
  return grandKids(incident, 'RelatedActivity', 'IncidentID').map((at) => {
    const site = attr(at, 'name')?.trim();
    // Liberal: a related id without its site is still worth keeping (RFC 5070 wants the name).
    return site ? { id: idText(at), site: boundedLabel(at, site, 'IncidentID name') } : { id: idText(at) };
  });
}
