/** @xmpp/tls ships no types; this is the one part the bot touches (see src/xmpp/tls.ts). */
declare module '@xmpp/tls/lib/Socket.js' {
  /** The TLS socket class of xmpp.js, used for direct TLS and for STARTTLS upgrades. */
  export default class Socket {
    /** Calls `tls.connect(...args)` and attaches the resulting TLS socket. */
    connect(...args: unknown[]): void;
  }
}
