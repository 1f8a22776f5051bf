/**
 * One interface over the two throwaway real servers (prosody.ts, ejabberd.ts), so a test is written once and run
 * on both:
 *
 * ```ts
 * describe.each(SERVER_KINDS)('on %s', (kind) => {
 *   let server: XmppServer;
 *   beforeAll(async () => { server = await startServer(kind); await server.register('alice', HOME, PW); });
 *   afterAll(() => server?.stop());
 * });
 * ```
 *
 * What differs between the servers stays in their own harness (Prosody's `mucRoomLocking`, ejabberd's `ctl()` and
 * `command()`); narrow on `server.kind` to use it.
 */
import type { Client } from './clients.js';
import { startEjabberd, type Ejabberd } from './ejabberd.js';
import { startProsody, type Prosody } from './prosody.js';

export type ServerKind = 'prosody' | 'ejabberd';

export const SERVER_KINDS: readonly ServerKind[] = ['prosody', 'ejabberd'];

export interface XmppServer {
  kind: ServerKind;
  /** c2s port on 127.0.0.1, without TLS; the same across restart(). */
  port: number;
  /** 'xmpp://127.0.0.1:PORT': harness clients and a bot on loopback log in here with PLAIN. */
  service: string;
  dir: string;
  hosts: string[];
  /** 'conference.' + host. */
  mucOf(host: string): string;
  register(username: string, host: string, password: string): Promise<void>;
  /** A PLAIN client, online, initial presence reflected; stopped by stop(). */
  client(opts: { username: string; host: string; password: string; resource?: string }): Promise<Client>;
  /** Stops the server and starts it again on the same port and data: accounts survive, temporary rooms do not. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export type AnyServer = (Prosody & { kind: 'prosody' }) | Ejabberd;

export interface ServerOptions {
  /** Default ['home.localhost', 'peer.localhost']. */
  hosts?: string[];
}

/** Starts a server of `kind` with MUC on every host, with each server's own MUC defaults (Prosody locks a new room
 * until its owner configures it; ejabberd does not). */
export async function startServer(kind: ServerKind, opts: ServerOptions = {}): Promise<AnyServer & XmppServer> {
  if (kind === 'ejabberd') return startEjabberd(opts.hosts ? { hosts: opts.hosts } : {});
  const prosody = await startProsody({ ...(opts.hosts ? { hosts: opts.hosts } : {}) });
  return { ...prosody, kind: 'prosody' };
}
