/**
 * The bounded send: every stanza the bot sends goes through `xmpp.send`, and this wraps it, so no path can send
 * a stanza over `limits.maxStanzaBytes` — a server closes the stream of a client that does (Prosody: "XML stanza
 * is too big"), and an owed stanza retried after each reconnect would close it again and again.
 *
 * - A message body (room lines, command replies, `!show`, `!list`, `!export`, notices) is made safe (flat-text.ts
 *   `safeBody`) and, when the stanza is too big, clipped: whole lines first, with a line saying how many were left
 *   out, else the text with a marker. The message still goes out.
 * - An IQ error answer is sent without the copy of the (possibly hostile) request the library puts in it.
 * - Anything else too big (an owed report or inquiry answer that fitIncident could not shrink enough, an entry owed
 *   since before this limit existed) is refused with a StanzaTooLargeError: the caller gives it up, nothing is sent.
 *
 * Measured after serialisation (UTF-8 bytes of the escaped XML) with room for what servers add (stanza-size.ts).
 * A stanza whose content cannot reach the limit even at the worst escaping is not serialised twice.
 */
import type { Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import { cutAt, safeBody } from '../core/flat-text.js';
import { escapedTextBytes, STAMP_RESERVE_BYTES, stanzaBytes, utf8Bytes, WORST_BYTES_PER_CHARACTER } from '../core/stanza-size.js';
import { xmlLongerThan } from '../protocol/xml.js';
import type { Client } from './connection.js';

export class StanzaTooLargeError extends Error {
  override readonly name = 'StanzaTooLargeError';

  constructor(
    readonly bytes: number,
    readonly limit: number,
    what: string,
  ) {
    super(`the ${what} stanza would be ${bytes} bytes, over limits.maxStanzaBytes (${limit})`);
  }
}

/** Makes every `xmpp.send` of this client bounded (see the top comment). */
export function guardStanzaSize(xmpp: Client, maxBytes: number, log: Logger): void {
  const send = xmpp.send.bind(xmpp);
  xmpp.send = async (element: Element) => send(boundStanza(element, maxBytes, log));
}

/** The stanza as it may be sent: bodies made safe and clipped to fit; throws StanzaTooLargeError when it cannot fit. */
export function boundStanza(element: Element, maxBytes: number, log?: Logger): Element {
  if (element.name === 'iq' && element.attrs.type === 'error') {
    // @xmpp/iq's callee echoes the request in its error answer (RFC 6120 §8.3.1 allows leaving it out): a 60 KB
    // malformed report, re-escaped, would make our refusal cost our stream, and a deeply nested one would overflow
    // the serialiser's stack. The id matches the answer to the request; the error alone says what is wrong.
    element.children = element.children.filter((c) => typeof c !== 'string' && (c as Element).name === 'error');
  }
  const body = element.name === 'message' ? element.getChild('body') : undefined;
  if (body) setText(body, safeBody(body.getText()));
  // Cheap bound first: most stanzas (results, presences, short lines) are far below the limit even if every
  // character were escaped as `&quot;`.
  if (!xmlLongerThan(element, Math.floor((maxBytes - STAMP_RESERVE_BYTES) / WORST_BYTES_PER_CHARACTER))) return element;
  const bytes = stanzaBytes(element);
  if (bytes <= maxBytes) return element;
  if (body) {
    const text = body.getText();
    const room = maxBytes - (bytes - escapedTextBytes(text));
    setText(body, fitText(text, room));
    const clipped = stanzaBytes(element);
    if (clipped <= maxBytes) {
      log?.warn({ to: element.attrs.to, bytes, clippedTo: clipped, limit: maxBytes }, 'message clipped to the stanza size limit');
      return element;
    }
  }
  const what = element.name === 'iq' ? `IQ ${String(element.attrs.type ?? '')}` : element.name;
  log?.warn({ to: element.attrs.to, bytes, limit: maxBytes }, 'stanza over the size limit not sent');
  throw new StanzaTooLargeError(bytes, maxBytes, what);
}

function setText(el: Element, text: string): void {
  el.children = [text];
}

const CUT_LINES = (n: number) => `\n… ${n} more line${n === 1 ? '' : 's'} not shown (over the stanza size limit)`;
const CUT_TEXT = '…[clipped: over the stanza size limit]';

/**
 * The longest start of `text` whose escaped bytes, with a marker saying it was cut, fit in `room`. Whole lines
 * when that keeps at least half of what fits; otherwise cut inside a line. Empty when not even the marker fits.
 */
export function fitText(text: string, room: number): string {
  if (escapedTextBytes(text) <= room) return text;
  const markerRoom = utf8Bytes(CUT_LINES(text.length)) + utf8Bytes(CUT_TEXT);
  const budget = room - markerRoom;
  if (budget <= 0) return '';
  // Bisection on the number of characters kept.
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (escapedTextBytes(cutAt(text, mid)) <= budget) low = mid;
    else high = mid - 1;
  }
  const kept = cutAt(text, low);
  const lastBreak = kept.lastIndexOf('\n');
  if (lastBreak >= kept.length / 2) {
    const whole = kept.slice(0, lastBreak);
    const total = text.split('\n').length;
    return `${whole}${CUT_LINES(total - whole.split('\n').length)}`;
  }
  return `${kept}${CUT_TEXT}`;
}
