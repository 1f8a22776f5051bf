/**
 * Bytes from the server are decoded as one UTF-8 stream per socket: a character whose bytes are split across TCP
 * chunks arrives whole. Driven through the client's own socket-data handler and its own XML parser.
 */
import { client, type Client } from '@xmpp/client';
import { Parser, type Element } from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { decodeUtf8Stream } from '../../src/xmpp/utf8-input.js';

const TEXT = 'é€😀 e\u0301 ñ 中文 𝄞 — Größe';
const STREAM = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
const BYTES = Buffer.from(`${STREAM}<message><body>${TEXT}</body></message>`, 'utf8');

interface Internals {
  socket: object | null;
  parser: Parser | null;
  _onData(data: Buffer): void;
}

/** Feeds `chunks` to a fresh socket of the client and returns the body the parser saw. */
function feed(xmpp: Client, chunks: Buffer[]): string | undefined {
  const c = xmpp as unknown as Internals;
  c.socket = {};
  // The TCP connection's own parser (@xmpp/connection-tcp uses @xmpp/xml's).
  const parser = new Parser();
  let body: string | undefined;
  parser.on('element', (el: Element) => (body = el.getChildText('body') ?? undefined));
  c.parser = parser;
  for (const chunk of chunks) c._onData(chunk);
  return body;
}

/** Every way of cutting the bytes in two, and in single bytes. */
function splits(): Buffer[][] {
  const out: Buffer[][] = [];
  for (let at = 1; at < BYTES.length; at++) out.push([BYTES.subarray(0, at), BYTES.subarray(at)]);
  out.push([...BYTES].map((b) => Buffer.from([b])));
  return out;
}

const newClient = () => client({ service: 'xmpp://127.0.0.1:9', domain: 'example.org' });

describe('decodeUtf8Stream', () => {
  it('gives the parser every character whole, wherever the chunks are cut', () => {
    const xmpp = newClient();
    decodeUtf8Stream(xmpp);
    for (const chunks of splits()) expect(feed(xmpp, chunks), `cut at ${chunks[0]!.length}`).toBe(TEXT);
  });

  it('keeps a partial character per socket: a new socket does not inherit one', () => {
    const xmpp = newClient();
    decodeUtf8Stream(xmpp);
    const c = xmpp as unknown as Internals;
    c.socket = {};
    c.parser = new Parser();
    c._onData(Buffer.from([0xf0, 0x9f])); // half an emoji, then the socket is replaced (reconnect)
    expect(feed(xmpp, [BYTES])).toBe(TEXT);
  });

  it('(the library alone decodes each chunk on its own and corrupts characters cut in two)', () => {
    const xmpp = newClient();
    const damaged = splits().filter((chunks) => feed(xmpp, chunks) !== TEXT);
    expect(damaged.length).toBeGreaterThan(10);
  });
});
