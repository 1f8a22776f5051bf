/**
 * The format-neutral model of an XEP-0268 incident.
 *
 * Both wire formats (legacy `urn:xmpp:incident:0` and IODEF `urn:xmpp:incident:2`) decode into this shape and
 * are built from it, so the rest of the bot never looks at XML. Plain JSON-compatible data only: it is stored
 * as-is by the store.
 */

export const INCIDENT_STATUSES = ['new', 'updated', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Legacy scale: 1 = most serious … 5 = least serious. IODEF low/medium/high map onto it (see severity.ts). */
export type Severity = 1 | 2 | 3 | 4 | 5;

/** RFC 5070 Incident@purpose. */
export const INCIDENT_PURPOSES = ['traceback', 'mitigation', 'reporting', 'other'] as const;

/** RFC 5070 action values, used by Expectation@action and HistoryItem@action. */
export const IODEF_ACTIONS = [
  'nothing',
  'contact-source-site',
  'contact-target-site',
  'contact-sender',
  'investigate',
  'block-host',
  'block-network',
  'block-port',
  'rate-limit-host',
  'rate-limit-network',
  'rate-limit-port',
  'remediate-other',
  'status-triage',
  'status-new-info',
  'other',
] as const;
export type IodefAction = (typeof IODEF_ACTIONS)[number];

/** A natural-language text; `lang` is the xml:lang when one was given. */
export interface LocalizedText {
  text: string;
  lang?: string;
}

/** An address of a network node: an XMPP address (JID) or an IP address with an optional port. */
export type Address =
  | { kind: 'jid'; value: string }
  | { kind: 'ip'; value: string; version: 4 | 6; port?: number }
  /** Any other IODEF Address@category (e-mail, mac, …), kept so that nothing a peer sent is lost. */
  | { kind: 'other'; category: string; value: string };

/** IODEF Node/Counter: how many of something a node did (`xmpp-presence` = 123). */
export interface Counter {
  type: string;
  value: number;
}

/** An IODEF Node: one or more addresses of the same entity, with counters and roles (NodeRole@category). */
export interface NetworkNode {
  addresses: Address[];
  counters: Counter[];
  roles: string[];
}

/** Another incident this one relates to; `site` is the issuing site when the format carries it (IODEF). */
export interface RelatedIncident {
  id: string;
  site?: string;
}

/** IODEF Assessment/Impact details beyond severity. */
export interface Impact {
  type?: string;
  completion?: 'failed' | 'succeeded';
  lang?: string;
}

export interface IncidentTimes {
  begin?: string;
  /** `null` = explicitly still happening (legacy empty `<end/>`); `undefined` = not said. */
  end?: string | null;
  report?: string;
  detect?: string;
}

/** A legacy `<solution>`: what fixed the incident, with the sources it identified (e.g. the abuser's IP). */
export interface Solution {
  texts: LocalizedText[];
  sources: NetworkNode[];
  /** When and by whom it was found (IODEF carries these on the HistoryItem; legacy cannot). */
  time?: string;
  who?: string;
}

/** IODEF HistoryItem: an action taken on the incident, by whom, when. */
export interface HistoryItem {
  /** An IodefAction or, for extension values a peer sent, the extension name. */
  action: string;
  time: string;
  /** JID of who did it, when known. */
  who?: string;
  texts: LocalizedText[];
}

export interface Expectation {
  action: string;
  texts: LocalizedText[];
}

export interface Incident {
  /** The incident id: a UUID in legacy, any string unique within `site` in IODEF. */
  id: string;
  /** The issuing site (IODEF IncidentID@name); for legacy the sender's domain, supplied by the caller. */
  site?: string;
  status: IncidentStatus;
  purpose?: string;
  /** JIDs of the reporting admin(s). */
  admins: string[];
  /** The MUC room where the incident can be discussed. */
  room?: string;
  /**
   * Who handles it here (`!take`, `!assign`): a bare JID, sent to peers as IODEF `Contact role='tech'` (and as a
   * dated line to legacy peers, through the history). Never read from a peer: their handler is not ours.
   */
  owner?: string;
  category?: string;
  types: string[];
  severity?: Severity;
  impact?: Impact;
  sources: NetworkNode[];
  /** Where it happened (legacy `<locs>`, IODEF target System). */
  targets: NetworkNode[];
  related: RelatedIncident[];
  texts: LocalizedText[];
  times: IncidentTimes;
  expectation?: Expectation;
  solutions: Solution[];
  history: HistoryItem[];
}

/** The IODEF wrapper an incident arrived in (v0.4's bare `<Incident>` counts as a report). */
export type IodefKind = 'report' | 'inquiry' | 'request' | 'response';

/** An empty incident with every list present, so code can push without checking. */
export function emptyIncident(id: string, status: IncidentStatus = 'new'): Incident {
  return {
    id,
    status,
    admins: [],
    types: [],
    sources: [],
    targets: [],
    related: [],
    texts: [],
    times: {},
    solutions: [],
    history: [],
  };
}

/** Every JID address of a list of nodes, in order, without duplicates. */
export function jidsOf(nodes: readonly NetworkNode[]): string[] {
  return unique(nodes.flatMap((n) => n.addresses.filter((a) => a.kind === 'jid').map((a) => a.value)));
}

/** Every IP address of a list of nodes as `addr`, `addr:port` or `[v6]:port`. */
export function ipsOf(nodes: readonly NetworkNode[]): string[] {
  return unique(
    nodes.flatMap((n) =>
      n.addresses.flatMap((a) => (a.kind === 'ip' ? [formatIp(a.value, a.version, a.port)] : [])),
    ),
  );
}

export function formatIp(value: string, version: 4 | 6, port?: number): string {
  if (port === undefined) return value;
  return version === 6 ? `[${value}]:${port}` : `${value}:${port}`;
}

/** The text in the preferred language, else one without a language, else the first. */
export function pickText(texts: readonly LocalizedText[], lang = 'en'): string | undefined {
  return (
    texts.find((t) => t.lang?.toLowerCase() === lang)?.text ??
    texts.find((t) => t.lang === undefined)?.text ??
    texts[0]?.text
  );
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
