/**
 * The bot's XMPP connection: an @xmpp/client logged in as the operator's bot account.
 *
 * Start-up fails fast (bad credentials, unreachable server → an error the CLI turns into exit code 1) instead of
 * the library's endless retry; once online, connection loss is retried with exponential backoff.
 */
import { client as createClient, type Client, type Options as ClientOptions } from '@xmpp/client';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { applyTlsPolicy, extraTrust } from './tls.js';
import { decodeUtf8Stream } from './utf8-input.js';

export type { Client };

const MIN_RECONNECT_MS = 500;
const MAX_RECONNECT_MS = 30_000;

export class StartupError extends Error {}

/** PLAIN is only chosen on loopback, where nothing can be sniffed; anywhere else the library picks SCRAM. */
function isLoopback(service: string): boolean {
  try {
    const host = new URL(service).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

export function createConnection(config: Config, log: Logger): Client {
  const { service, domain, username, password, resource } = config.xmpp;
  const loopback = isLoopback(service);
  // The library calls this with (authenticate, offered mechanisms, …); its typings lag behind that signature.
  const chooseMechanism = async (
    authenticate: (c: { username: string; password: string }, mechanism: string) => Promise<void>,
    mechanisms: string[],
    _fast: unknown,
    entity: { isSecure(): boolean },
  ) => {
    if (!loopback && !entity.isSecure()) {
      if (!config.xmpp.allowPlaintext) {
        throw new StartupError(
          `refusing to send the password in the clear to ${service}: the stream is not encrypted (the server offered no STARTTLS). Use xmpps:// or enable STARTTLS on the server`,
        );
      }
      log.warn({ service }, 'LOGGING IN WITHOUT TLS (xmpp.allowPlaintext): password and incidents cross the network in the clear');
    }
    const mechanism = loopback && mechanisms.includes('PLAIN') ? 'PLAIN' : (mechanisms.find((m) => m !== 'PLAIN') ?? mechanisms[0]);
    if (!mechanism) throw new StartupError('the server offers no SASL mechanism');
    await authenticate({ username, password }, mechanism);
  };
  const xmpp = createClient({
    service,
    domain,
    resource,
    // SCRAM in pure JS costs ~1.3 s per login against Prosody's defaults; on loopback PLAIN costs milliseconds.
    credentials: chooseMechanism as unknown as ClientOptions['credentials'],
  });
  decodeUtf8Stream(xmpp);
  applyTlsPolicy(xmpp, domain, trustedCas(config));
  installBackoff(xmpp, log);
  // Nagle's algorithm holds a small write (an IQ result, a room line) until the previous one is acknowledged: with
  // delayed ACKs that is tens of ms per answer in a quiet room. Set on the TCP socket (kept through STARTTLS) and again
  // once online (direct TLS wraps it).
  xmpp.on('connect', () => sendWithoutDelay(xmpp.socket));
  xmpp.on('online', () => {
    sendWithoutDelay(xmpp.socket);
    // @xmpp/tls's socket wraps Node's TLSSocket as `.socket`; a plain TCP socket has none.
    const tlsSocket = (xmpp.socket as { socket?: { getProtocol?: () => string | null } } | null)?.socket;
    log.info({ service, encrypted: xmpp.isSecure(), tls: tlsSocket?.getProtocol?.() ?? undefined }, 'logged in');
  });
  return xmpp;
}

/** TCP_NODELAY on the connection's socket, whichever wrapper it comes in (net/TLS socket, or @xmpp/tls's `.socket`). */
function sendWithoutDelay(socket: unknown): void {
  type Settable = { setNoDelay?: (on: boolean) => unknown; socket?: Settable } | null | undefined;
  const s = socket as Settable;
  for (const candidate of [s, s?.socket]) {
    if (typeof candidate?.setNoDelay === 'function') candidate.setNoDelay(true);
  }
}

/** The extra CAs of `xmpp.tls.caFile` (loadConfig has checked the file; this catches a file changed since). */
function trustedCas(config: Config) {
  const caFile = config.xmpp.tls?.caFile;
  if (!caFile) return undefined;
  try {
    return extraTrust(caFile);
  } catch (err) {
    throw new StartupError(`xmpp.tls.caFile: cannot use ${caFile} as CA certificates: ${(err as Error).message}`);
  }
}

/** Grows the library's fixed reconnect delay exponentially while the server stays away; resets once online. */
function installBackoff(xmpp: Client, log: Logger): void {
  const reconnect = xmpp.reconnect as unknown as { delay: number; on(event: string, fn: () => void): void };
  reconnect.delay = MIN_RECONNECT_MS;
  reconnect.on('reconnecting', () => {
    log.info({ delayMs: reconnect.delay }, 'reconnecting');
    reconnect.delay = Math.min(reconnect.delay * 2, MAX_RECONNECT_MS);
  });
  xmpp.on('online', () => {
    reconnect.delay = MIN_RECONNECT_MS;
  });
}

/** Starts the connection once: resolves when online, or stops the client and throws a readable StartupError. */
export async function startOrFail(xmpp: Client, config: Config, timeoutMs = 15_000): Promise<void> {
  xmpp.reconnect.stop();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    await Promise.race([xmpp.start(), timeout]);
  } catch (err) {
    await xmpp.stop().catch(() => undefined);
    throw new StartupError(describeStartError(err, config));
  } finally {
    clearTimeout(timer);
  }
  xmpp.reconnect.start();
}

function describeStartError(err: unknown, config: Config): string {
  if (err instanceof StartupError) return err.message;
  const e = err as { name?: string; condition?: string; code?: string; message?: string };
  const who = `${config.xmpp.username}@${config.xmpp.domain}`;
  if (e.name === 'SASLError' || e.condition === 'not-authorized') {
    return `login refused for ${who}: wrong username or password (${e.condition ?? e.message})`;
  }
  const tlsProblem = describeCertificateError(e, config);
  if (tlsProblem) return tlsProblem;
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH' || e.code === 'ETIMEDOUT') {
    return `cannot reach the XMPP server at ${config.xmpp.service}: ${e.code}`;
  }
  return `cannot connect to ${config.xmpp.service} as ${who}: ${e.message ?? String(err)}`;
}

/** A readable reason for a refused server certificate (Node's TLS error codes), or undefined for other errors. */
function describeCertificateError(e: { code?: string; message?: string; reason?: string }, config: Config): string | undefined {
  const code = e.code;
  if (typeof code !== 'string' || !/CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) return undefined;
  const { service, domain } = config.xmpp;
  const prefix = `refusing the TLS certificate of ${service}, the password was not sent`;
  const detail = `${code}: ${e.reason ?? e.message ?? ''}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `${prefix}: it is not issued for the XMPP domain ${domain} (${detail}). The server must present a certificate for ${domain}`;
  }
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    const caFile = config.xmpp.tls?.caFile;
    return caFile
      ? `${prefix}: it is signed by neither a public CA nor a CA of xmpp.tls.caFile (${detail}). Check that ${caFile} holds the certificate of the CA that signed the server's (or the server's own, if self-signed)`
      : `${prefix}: it is signed by no CA the bot trusts (${detail}). For a private CA or a self-signed certificate, set xmpp.tls.caFile to its certificate (PEM)`;
  }
  return `${prefix}: ${detail}`;
}
