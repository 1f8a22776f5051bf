/**
 * Streaming UTF-8 decoding of what the server sends. @xmpp/connection turns each socket chunk into a string on its
 * own (`data.toString('utf8')`), so a character whose bytes straddle two TCP chunks becomes two U+FFFD: with 4,000
 * emoji in a report most reports were stored corrupted. Here each socket gets a StringDecoder that keeps an incomplete
 * character's bytes until the next chunk completes it.
 *
 * Only decoding is done here: the text goes to whatever parser the connection uses (`parser.write(string)`), so the
 * parser can be swapped without touching this. A WebSocket already delivers whole strings, which pass unchanged.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Client } from './connection.js';

interface ConnectionInternals {
  socket: object | null;
  parser: { write(text: string): void } | null;
  _onData(data: Buffer | string): void;
}

/**
 * Replaces the client's socket-data handler with a streaming decoder. Call before the client connects: the
 * connection binds its handler when it attaches its first socket.
 */
export function decodeUtf8Stream(xmpp: Client): void {
  const connection = xmpp as unknown as ConnectionInternals;
  // One decoder per socket: STARTTLS swaps the socket, and a new connection must not inherit a partial character.
  const decoders = new WeakMap<object, StringDecoder>();
  connection._onData = function onData(this: ConnectionInternals, data: Buffer | string): void {
    let text: string;
    if (typeof data === 'string' || this.socket === null) {
      text = String(data);
    } else {
      let decoder = decoders.get(this.socket);
      if (!decoder) {
        decoder = new StringDecoder('utf8');
        decoders.set(this.socket, decoder);
      }
      text = decoder.write(data);
    }
    if (text.length > 0) this.parser?.write(text);
  };
}
