/**
 * The three @xmpp/client 0.14 faults of src/xmpp/xmpp-js-fixes.ts, each shown on the unpatched library and then
 * fixed, on real clients that are not connected: elements are fed into the client as its connection does for what
 * it reads (`_onElement`), and what it sends is captured.
 *
 * The IQ race: send() is replaced by one that feeds the error reply in before it resolves, as a server answering at
 * once (ejabberd, IQ to an offline full JID) makes happen while the socket write is pending.
 */
import { client as createClient } from '@xmpp/client';
import xml from '@xmpp/xml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countStanzasForStreamManagement, guardIqCaller, ignoreDataAfterStreamEnd } from '../../src/xmpp/xmpp-js-fixes.js';
import type { Client } from '../../src/xmpp/connection.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
let vitestListeners: NodeJS.UnhandledRejectionListener[] = [];

/** Counts unhandled rejections here instead of vitest (which would fail the run on the one provoked below). */
beforeEach(() => {
  vitestListeners = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', onUnhandled);
});

afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  for (const l of vitestListeners) process.on('unhandledRejection', l);
  unhandled.length = 0;
});

/** A client whose send() lets the server's error reply in, then takes a while to "flush the socket". */
function clientAnsweredAtOnce(): Client {
  const xmpp = createClient({ service: 'xmpp://127.0.0.1:1', domain: 'home.localhost' }) as unknown as Client;
  xmpp.send = async (stanza: ReturnType<typeof xml>) => {
    const reply = xml(
      'iq',
      { type: 'error', id: stanza.attrs.id, from: stanza.attrs.to },
      xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }), xml('text', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }, 'User session not found')),
    );
    (xmpp as unknown as { _onElement(el: unknown): void })._onElement(reply);
    await new Promise((r) => setTimeout(r, 20)); // Node checks for unhandled rejections meanwhile
  };
  return xmpp;
}

async function requestOffline(xmpp: Client): Promise<unknown> {
  const request = xmpp.iqCaller.request(xml('iq', { type: 'set', to: 'reporter@peer.localhost/bot' }, xml('report', { xmlns: 'urn:xmpp:incident:2' })), 5_000);
  return request.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('guardIqCaller', () => {
  it('the unguarded library leaves the early error reply unhandled (what crashed the bot)', async () => {
    const err = await requestOffline(clientAnsweredAtOnce());
    expect((err as { condition?: string }).condition).toBe('service-unavailable');
    expect(unhandled).toHaveLength(1);
  });

  it('guarded: the caller still gets the StanzaError, and no rejection goes unhandled', async () => {
    const xmpp = clientAnsweredAtOnce();
    expect(guardIqCaller(xmpp)).toBe(true);
    expect(guardIqCaller(xmpp)).toBe(true); // twice is harmless
    const errors = await Promise.all([requestOffline(xmpp), requestOffline(xmpp), requestOffline(xmpp)]);
    for (const err of errors) {
      expect((err as { name?: string }).name).toBe('StanzaError');
      expect((err as { condition?: string }).condition).toBe('service-unavailable');
      expect((err as { text?: string }).text).toBe('User session not found');
    }
    expect(unhandled).toHaveLength(0);
  });
});

describe('countStanzasForStreamManagement', () => {
  const SM = 'urn:xmpp:sm:3';
  /** A client that has "enabled" stream management, with what it acknowledges recorded. */
  function smClient(fixed: boolean) {
    const xmpp = createClient({ service: 'xmpp://127.0.0.1:1', domain: 'home.localhost' }) as unknown as Client;
    if (fixed) expect(countStanzasForStreamManagement(xmpp)).toBe(true);
    const acks: number[] = [];
    xmpp.send = async (el: ReturnType<typeof xml>) => {
      if (el.is('a', SM)) acks.push(Number(el.attrs.h));
    };
    const feed = (el: ReturnType<typeof xml>) => (xmpp as unknown as { _onElement(e: unknown): void })._onElement(el);
    return { xmpp, acks, feed };
  }
  /** An old stream's stanzas, then a new stream whose <enabled/>, one presence and an <r/> come in one chunk. */
  async function reconnectScenario(fixed: boolean): Promise<number[]> {
    const { acks, feed } = smClient(fixed);
    for (let i = 0; i < 4; i++) feed(xml('presence', { from: `room@conference.home.localhost/n${i}` }));
    feed(xml('enabled', { xmlns: SM, id: 'x', resume: 'true' }));
    feed(xml('presence', { from: 'incidents@home.localhost/bot' }));
    feed(xml('r', { xmlns: SM }));
    await new Promise((r) => setImmediate(r));
    return acks;
  }

  it('unpatched, acknowledges stanzas the server never sent on this stream (ejabberd closes the stream)', async () => {
    expect(await reconnectScenario(false)).toEqual([5]);
  });

  it('patched, acknowledges exactly what arrived since <enabled/>', async () => {
    expect(await reconnectScenario(true)).toEqual([1]);
  });

  it('patched, also counts IQ results (the library never did: the server queue of unacked stanzas grew)', async () => {
    const { xmpp, acks, feed } = smClient(true);
    feed(xml('enabled', { xmlns: SM, id: 'x', resume: 'true' }));
    const request = xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'peer.localhost', id: 'q1' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 1_000);
    await new Promise((r) => setImmediate(r));
    feed(xml('iq', { type: 'result', id: 'q1', from: 'peer.localhost' }));
    await request;
    feed(xml('message', { from: 'alice@home.localhost/x' }));
    feed(xml('r', { xmlns: SM }));
    await new Promise((r) => setImmediate(r));
    expect(acks).toEqual([2]);
  });
});

describe('ignoreDataAfterStreamEnd', () => {
  it('unpatched, bytes read after the stream ended throw (an uncaught exception from a socket event); patched, they are dropped', () => {
    const raw = createClient({ service: 'xmpp://127.0.0.1:1', domain: 'home.localhost' }) as unknown as { _onData(d: Buffer): void; parser: unknown };
    expect(raw.parser).toBeNull();
    expect(() => raw._onData(Buffer.from('<presence/>'))).toThrow(TypeError);
    const patched = createClient({ service: 'xmpp://127.0.0.1:1', domain: 'home.localhost' }) as unknown as Client & { _onData(d: Buffer): void };
    expect(ignoreDataAfterStreamEnd(patched)).toBe(true);
    expect(() => patched._onData(Buffer.from('<presence/>'))).not.toThrow();
  });
});
