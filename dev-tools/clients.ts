/**
 * Connected @xmpp/client helpers for tests (and the demo script) against the throwaway Prosody of `prosody.ts`.
 *
 * - {@link plainCredentials}: a `credentials` callback that authenticates with SASL PLAIN on loopback (~5 ms instead
 *   of ~1.3 s of pure-JS SCRAM-SHA-1 against Prosody's 10,000 iterations).
 * - {@link connectClient}: start a client, wait until it is online and its initial presence is live on the server.
 * - {@link nextStanza}: the next stanza matching a predicate, with a timeout and an error that says what did arrive.
 * - {@link stopClient}: stop a client without ever hanging (bounded time, reconnect disabled first).
 */
import { randomUUID } from 'node:crypto';
import { client as createClient, xml, type Client, type Options as ClientOptions } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { applyXmppJsFixes } from '../src/xmpp/xmpp-js-fixes.js';

export type { Client, Element };

/** What @xmpp/client 0.14 passes to a `credentials` callback (see node_modules/@xmpp/sasl/index.js and
 * @xmpp/sasl2/index.js): `(authenticate, mechanisms, fast, entity)`. `authenticate(credentials, mechanism,
 * userAgent)` runs the exchange; `mechanisms` are the names both sides support, in the library's order of preference
 * (SCRAM-SHA-1, PLAIN, ANONYMOUS); `fast` is null unless the server offers XEP-0484; `entity` is the client.
 * The same callback serves SASL (Prosody 0.12) and SASL2. */
export type CredentialsCallback = Extract<NonNullable<ClientOptions['credentials']>, (...args: never[]) => unknown>;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** True when the client's `service` option points at a loopback address (so a cleartext password never leaves the host). */
export function isLoopbackService(service: string | undefined): boolean {
  if (!service) return false;
  try {
    const host = new URL(service).hostname;
    return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/**
 * A `credentials` callback for @xmpp/client that picks SASL PLAIN when the server offers it and the connection goes to
 * a loopback address. Anywhere else it makes the library's own choice (first offered mechanism on TLS, otherwise the
 * first that is not PLAIN), so it is safe to reuse outside tests; it never sends a cleartext password over a network.
 *
 * Why: without TLS @xmpp/client never picks PLAIN by itself and does SCRAM-SHA-1 in pure JS (~1.3 s per login).
 *
 * @example client({ service, domain, credentials: plainCredentials('alice', 'secret') })
 */
export function plainCredentials(username: string, password: string): CredentialsCallback {
  const userAgent = xml('user-agent', { id: randomUUID() });
  return async (authenticate, mechanisms, _fast, entity) => {
    const loopback = isLoopbackService(entity.options.service);
    let mechanism: string | undefined;
    if (loopback && mechanisms.includes('PLAIN')) mechanism = 'PLAIN';
    else if (entity.isSecure()) mechanism = mechanisms[0];
    else mechanism = mechanisms.find((m) => m !== 'PLAIN');
    if (!mechanism) throw new Error(`SASL: no usable mechanism among [${mechanisms.join(', ')}]`);
    await authenticate({ username, password }, mechanism, userAgent);
  };
}

export interface ConnectOptions {
  /** e.g. 'xmpp://127.0.0.1:5222' */
  service: string;
  /** The XMPP domain (a VirtualHost), e.g. 'home.localhost'. */
  host: string;
  username: string;
  password: string;
  /** Fixed resource; the server picks one when omitted. Give one when another entity must address the full JID. */
  resource?: string;
  /** Milliseconds for connect + login + presence echo (default 10,000). */
  timeoutMs?: number;
  /** Delay before @xmpp/reconnect retries after a disconnect (library default 1,000 ms; default here 200 ms). */
  reconnectDelayMs?: number;
}

/**
 * Connects a client with PLAIN, sends initial `<presence/>` and waits for the server to reflect it, so that messages
 * to the bare JID are delivered (not stored offline) as soon as this resolves; presence is sent again on every
 * reconnect. `client.jid` is the full JID.
 * An 'error' listener is attached (the library emits socket errors while reconnecting; without a listener Node would
 * throw); set HARNESS_DEBUG=1 to print them. Rejects, after stopping the client, on bad credentials or timeout.
 */
export async function connectClient(opts: ConnectOptions): Promise<Client> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const xmpp = createClient({
    service: opts.service,
    domain: opts.host,
    ...(opts.resource !== undefined ? { resource: opts.resource } : {}),
    credentials: plainCredentials(opts.username, opts.password),
  });
  // The bot's own work-arounds for @xmpp/client faults (stream management counts, late bytes): a harness client
  // reconnecting after a server restart must not be thrown out by the server or crash the test process either.
  applyXmppJsFixes(xmpp as unknown as Parameters<typeof applyXmppJsFixes>[0]);
  xmpp.reconnect.delay = opts.reconnectDelayMs ?? 200;
  xmpp.setMaxListeners(100); // every pending nextStanza() is a 'stanza' listener
  xmpp.on('error', (err: unknown) => {
    if (process.env.HARNESS_DEBUG) console.error(`[harness] ${opts.username}@${opts.host}:`, err);
  });
  const who = `${opts.username}@${opts.host}`;
  try {
    await withTimeout(xmpp.start(), timeoutMs, `connecting ${who} to ${opts.service}`);
    const jid = xmpp.jid?.toString();
    if (!jid) throw new Error(`${who} is online but has no JID`);
    const echo = nextStanza(xmpp, (el) => el.is('presence') && el.attrs.from === jid && !el.attrs.type, timeoutMs);
    await xmpp.send(xml('presence'));
    await echo;
    // After a reconnect (e.g. Prosody.restart()) the new session has no presence: announce it again, as a real
    // client does, so that messages to the bare JID keep arriving instead of going to offline storage.
    xmpp.on('online', () => {
      xmpp.send(xml('presence')).catch(() => {});
    });
    return xmpp;
  } catch (err) {
    await stopClient(xmpp);
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new Error(`could not log in ${who} at ${opts.service}: ${reason}`, { cause: err });
  }
}

/** Stops a client in bounded time (never throws): no reconnect, `</stream>` and socket close, or give up after `timeoutMs`. */
export async function stopClient(xmpp: Client, timeoutMs = 2_000): Promise<void> {
  xmpp.reconnect.stop();
  if (xmpp.status === 'offline') return;
  try {
    await withTimeout(xmpp.stop(), timeoutMs, 'stopping client');
  } catch {
    // Dead server or half-open socket: drop the socket so nothing keeps the event loop alive.
    (xmpp.socket as { destroy?: () => void } | null)?.destroy?.();
  }
}

/**
 * Resolves with the next stanza received by `client` for which `match` returns true. Call it *before* sending
 * whatever provokes the stanza (keep the promise, send, then await). Rejects after `timeoutMs` (default 5,000) with
 * the predicate's source and the last stanzas that did arrive; rejects if `match` throws.
 */
export function nextStanza(client: Client, match: (el: Element) => boolean, timeoutMs = 5_000): Promise<Element> {
  return new Promise<Element>((resolve, reject) => {
    const seen: string[] = [];
    const onStanza = (el: Element): void => {
      let hit: boolean;
      try {
        hit = match(el);
      } catch (err) {
        done();
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (hit) {
        done();
        resolve(el);
      } else {
        seen.push(truncate(el.toString(), 300));
        if (seen.length > 5) seen.shift();
      }
    };
    const timer = setTimeout(() => {
      done();
      const got = seen.length ? `; last stanzas received:\n  ${seen.join('\n  ')}` : '; no other stanza arrived';
      reject(
        new Error(
          `nextStanza: nothing matching ${truncate(match.toString(), 200)} reached ${client.jid?.toString() ?? 'client'} ` +
            `within ${timeoutMs} ms${got}`,
        ),
      );
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      client.removeListener('stanza', onStanza);
    };
    client.on('stanza', onStanza);
  });
}

function truncate(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Rejects with `Timed out after N ms: what` unless `p` settles first. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 20 ms until it holds; rejects with `timed out waiting for WHAT` after `timeoutMs` (monotonic). */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
