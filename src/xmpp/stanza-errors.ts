/** RFC 6120 stanza errors with a human-readable text, for IQ handlers to return. */
import xml, { type Element } from '@xmpp/xml';

const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export type ErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

export function stanzaError(type: ErrorType, condition: string, text: string): Element {
  return xml('error', { type }, xml(condition, { xmlns: STANZAS_NS }), xml('text', { xmlns: STANZAS_NS, 'xml:lang': 'en' }, text));
}

export const badRequest = (text: string) => stanzaError('modify', 'bad-request', text);
export const forbidden = (text: string) => stanzaError('auth', 'forbidden', text);
export const itemNotFound = (text: string) => stanzaError('cancel', 'item-not-found', text);
export const internalError = (text: string) => stanzaError('cancel', 'internal-server-error', text);
