/**
 * How big a stanza is on the wire, counted the way servers count it: the UTF-8 bytes of its serialisation, after
 * escaping (a text of 63,000 `&` is 315,000 bytes as `&amp;`). Servers close the stream of a client that sends a
 * stanza over their limit (Prosody `c2s_stanza_size_limit`, ejabberd `max_stanza_size`), so nothing the bot builds
 * may be larger than `limits.maxStanzaBytes`.
 *
 * What the server adds when it routes the stanza on (our `from` address, a stanza-id, a delay stamp) counts against
 * the next hop's limit too: STAMP_RESERVE_BYTES are kept free for it.
 */
import xml, { type Element } from '@xmpp/xml';

/** Room left under the limit for what servers add on the way (`from` with our full JID, XEP-0359 stanza-id, …). */
export const STAMP_RESERVE_BYTES = 1024;

/** A stand-in for the IQ id the client picks at send time (@xmpp/id makes 10 characters; ours may be longer). */
const ID_PLACEHOLDER = 'x'.repeat(40);

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Bytes of `el` as sent, plus the reserve for what servers add. */
export function stanzaBytes(el: Element): number {
  return utf8Bytes(el.toString()) + STAMP_RESERVE_BYTES;
}

/**
 * The bytes a stanza `<name attrs>PAYLOAD</name>` adds around its payload (with an id placeholder when it has
 * none), plus the reserve: with the payload's own bytes, the size of the stanza as the server will route it.
 */
export function envelopeBytes(name: string, attrs: Record<string, string>): number {
  const withId = name === 'iq' && attrs.id === undefined ? { ...attrs, id: ID_PLACEHOLDER } : attrs;
  return utf8Bytes(xml(name, withId, '.').toString()) - 1 + STAMP_RESERVE_BYTES;
}

/**
 * Characters an element's serialisation may at most take per character of its content: `&quot;` (6 bytes) for one
 * character of an attribute value is the worst case (`&amp;` is 5; a BMP character 3 bytes in UTF-8; a surrogate
 * pair, two characters, 4 bytes).
 */
export const WORST_BYTES_PER_CHARACTER = 6;

/** What ltx does to a text node: the bytes of `text` once escaped. */
export function escapedTextBytes(text: string): number {
  let extra = 0;
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) extra += 4; // &amp;
  for (let i = text.indexOf('<'); i !== -1; i = text.indexOf('<', i + 1)) extra += 3; // &lt;
  for (let i = text.indexOf('>'); i !== -1; i = text.indexOf('>', i + 1)) extra += 3; // &gt;
  return utf8Bytes(text) + extra;
}
