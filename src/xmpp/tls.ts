/**
 * How the bot's TLS is checked: the certificate must be valid for the XMPP domain (RFC 6120 §13.7.2, RFC 7590) and
 * signed by a CA Node trusts, plus the CAs of `xmpp.tls.caFile` when set (added to Node's roots, never replacing them).
 *
 * - Direct TLS (`xmpps://`): @xmpp/tls connects with the service's host name as the name to check, so this client's
 *   own `socketParameters` adds the domain as `servername` (SNI and the name checked) and the extra CAs.
 * - STARTTLS (`xmpp://`): @xmpp/starttls 0.14 upgrades the socket with `{ socket, host: domain }` and takes no other
 *   TLS option, from anywhere. The only way in is the class it builds the TLS socket with (@xmpp/tls's Socket),
 *   shared by every client of the process; {@link trustOnUpgrade} wraps its `connect` once, and the wrapper adds
 *   options only to upgrades of sockets registered here (this client's TCP sockets, registered as each connects).
 *   Every other xmpp.js connection in the process is untouched. Drop the wrapper once the library takes TLS options.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import TlsSocket from '@xmpp/tls/lib/Socket.js';
import type { Client } from '@xmpp/client';

/** A TLS context trusting Node's bundled roots, NODE_EXTRA_CA_CERTS (as Node itself would) and `caFile`. */
export function extraTrust(caFile: string): tls.SecureContext {
  const ca = [...tls.rootCertificates, readFileSync(caFile, 'utf8')];
  const fromEnv = process.env.NODE_EXTRA_CA_CERTS;
  if (fromEnv) {
    try {
      ca.push(readFileSync(fromEnv, 'utf8'));
    } catch {
      // Node already warned about it at start-up and ignores it; so do we.
    }
  }
  return tls.createSecureContext({ ca });
}

/** Makes `xmpp` check its server's certificate against `domain`, trusting `secureContext`'s CAs when given. */
export function applyTlsPolicy(xmpp: Client, domain: string, secureContext: tls.SecureContext | undefined): void {
  const trust = secureContext ? { secureContext } : {};
  const libraryParameters = xmpp.socketParameters.bind(xmpp);
  xmpp.socketParameters = (service: string) => {
    const params = libraryParameters(service) as Record<string, unknown> | undefined;
    return params && service.startsWith('xmpps:') ? { ...params, servername: domain, ...trust } : params;
  };
  if (!secureContext) return;
  trustOnUpgrade();
  xmpp.on('connect', () => {
    if (xmpp.socket) upgradeOptions.set(xmpp.socket, trust);
  });
}

/** TCP sockets of clients with extra trust → the options their STARTTLS upgrade gets. */
const upgradeOptions = new WeakMap<object, tls.ConnectionOptions>();
let wrapped = false;

function trustOnUpgrade(): void {
  if (wrapped) return;
  wrapped = true;
  const connect = TlsSocket.prototype.connect;
  TlsSocket.prototype.connect = function (this: TlsSocket, options?: unknown, ...rest: unknown[]) {
    const socket = (options as { socket?: unknown } | undefined)?.socket;
    const extra = typeof socket === 'object' && socket !== null ? upgradeOptions.get(socket) : undefined;
    return connect.call(this, extra ? { ...(options as object), ...extra } : options, ...rest);
  };
}
