/** IODEF (RFC 5070) and XEP-0268 vocabulary: namespaces, enumerations, and this project's AdditionalData meanings. */
import { type IodefKind } from './incident.js';

export const INCIDENT_NS = 'urn:xmpp:incident:2';
export const IODEF_NS = 'urn:ietf:params:xml:ns:iodef-1.0';
export const JID_NS = 'urn:xmpp:jid:0';
/** The legacy namespace: its `<info>` and `<solution>` shapes are reused inside IODEF AdditionalData. */
export const LEGACY_NS = 'urn:xmpp:incident:0';

export const IODEF_KINDS: readonly IodefKind[] = ['report', 'inquiry', 'request', 'response'];

/** Incident@purpose is required by RFC 5070; when a peer omits it we assume what the wrapper implies. */
export const DEFAULT_PURPOSE: Record<IodefKind, string> = {
  report: 'reporting',
  inquiry: 'traceback',
  request: 'mitigation',
  response: 'mitigation',
};

/** IODEF does not make IncidentID a UUID; this bound only keeps hostile ids out of logs and the store. */
export const MAX_ID_LENGTH = 256;

export const IMPACT_TYPES = [
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
export const COMPLETIONS = ['failed', 'succeeded'] as const;
export const SYSTEM_CATEGORIES = ['source', 'target', 'intermediate', 'sensor', 'infrastructure'] as const;
/** RFC 5070 Address@category values; anything else is sent as an extension. */
export const ADDRESS_CATEGORIES = [
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
export const COUNTER_TYPES = [
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
export const NODE_ROLES = [
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
export const XMPP_ADDRESS = 'xmpp';
export const CHATROOM_ROLE = 'chatroom';
export const ADMIN_ROLES = ['admin', 'creator'];

/** AdditionalData@meaning marking this project's lossless carriers of legacy data. */
export const INFO_MEANING = 'xmpp-incident-info';
export const SOLUTION_MEANING = 'xmpp-incident-solution';
/** Service@ip_protocol is required by RFC 5070; XMPP runs over TCP. */
export const TCP = '6';
/** A solution has no time in the model, but a HistoryItem needs a DateTime. */
export const EPOCH = '1970-01-01T00:00:00Z';
