/**
 * Work-arounds for three faults of @xmpp/client 0.14 that real servers trigger (ejabberd 23.01 with Debian's stock
 * mod_stream_mgmt found them), applied to a client before it connects by {@link applyXmppJsFixes}. Each one does
 * nothing if the library's internals it relies on are gone (a fixed version), and each is pinned by
 * test/xmpp/xmpp-js-fixes.test.ts, which shows the fault without the fix.
 */
import type { Element } from '@xmpp/xml';
import type { Client } from './connection.js';

const SM_NS = 'urn:xmpp:sm:3';

export function applyXmppJsFixes(xmpp: Client): void {
  guardIqCaller(xmpp);
  countStanzasForStreamManagement(xmpp);
  ignoreDataAfterStreamEnd(xmpp);
}

/**
 * @xmpp/iq's request() registers a Deferred for the IQ's id, then `await entity.send(stanza)`, and only then awaits
 * the Deferred's promise. A server that answers at once (ejabberd answers an IQ to an offline full JID with
 * service-unavailable within milliseconds) can reject it while send() still waits for the socket, before anything
 * listens: an unhandled rejection, which ended the process (three revisions owed to an offline peer at start-up did
 * it every time). Every Deferred's promise is marked handled when the library registers it; request() still awaits
 * it, so its caller still gets the StanzaError.
 */
export function guardIqCaller(xmpp: Client): boolean {
  const handlers = (xmpp.iqCaller as unknown as { handlers?: unknown } | undefined)?.handlers;
  if (!(handlers instanceof Map)) return false;
  if (guardedMaps.has(handlers)) return true;
  guardedMaps.add(handlers);
  const set = handlers.set.bind(handlers);
  handlers.set = (id: unknown, deferred: { promise?: Promise<unknown> } | undefined) => {
    deferred?.promise?.catch(() => undefined);
    return set(id, deferred);
  };
  return true;
}
const guardedMaps = new WeakSet<object>();

/**
 * XEP-0198 acknowledgements count the stanzas received since `<enabled/>`. @xmpp/stream-management counts them
 * wrongly both ways: (1) it resets its count only in a promise continuation after `<enabled/>`, and not at all when
 * a resumption fails, so after a reconnect the stanzas of the old stream, those before `<enabled/>` and those read in
 * the same chunk are all acknowledged: ejabberd closes the stream ("Client acknowledged more stanzas than sent by
 * server") — after every ejabberd restart, again and again, each time a join or a delivery is under way; (2) it never
 * counts IQ results (the IQ caller's middleware runs first and stops there), so the server's queue of unacknowledged
 * stanzas only grows, until ejabberd's max_ack_queue (5,000) ends the session.
 * The count is kept here instead, from every element as it is read (before the library's middleware sees it), and
 * the library reads it through its `inbound` field; its own writes to that field are ignored.
 */
export function countStanzasForStreamManagement(xmpp: Client): boolean {
  const sm = (xmpp as unknown as { streamManagement?: { inbound?: unknown } }).streamManagement;
  if (!sm || typeof sm.inbound !== 'number') return false;
  let received = 0;
  Object.defineProperty(sm, 'inbound', {
    get: () => received,
    set: () => undefined,
    configurable: true,
    enumerable: true,
  });
  xmpp.prependListener('element', (el: Element) => {
    if (el.is('enabled', SM_NS)) received = 0;
    else if (el.name === 'message' || el.name === 'presence' || el.name === 'iq') received += 1;
  });
  // A session that ended cannot be resumed: its count ends with it (as the library's own 'offline' reset meant).
  xmpp.on('offline', () => (received = 0));
  return true;
}

/**
 * @xmpp/connection detaches its XML parser when the stream ends (the server's `</stream>` after a stream error or a
 * shutdown) but keeps reading the socket until it closes: bytes arriving in between hit `this.parser.write` on
 * null, a TypeError thrown from a socket event, i.e. an uncaught exception that ends the process. After the stream
 * has ended nothing more is wanted from that socket: such bytes are dropped.
 */
export function ignoreDataAfterStreamEnd(xmpp: Client): boolean {
  const connection = xmpp as unknown as { _onData?: (data: unknown) => void; parser?: unknown };
  const onData = connection._onData;
  if (typeof onData !== 'function') return false;
  connection._onData = function (this: typeof connection, data: unknown) {
    if (this.parser) onData.call(this, data);
  };
  return true;
}
