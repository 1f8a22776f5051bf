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
export { INCIDENT_NS, IODEF_NS, JID_NS } from './iodef-vocabulary.js';
export { decodeIodef, type DecodeOptions, type IodefEnvelope } from './iodef-decode.js';
export { findIodefPayload } from './iodef-reader.js';
export { encodeIodef } from './iodef-encode.js';
