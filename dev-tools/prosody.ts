/**
 * A throwaway real Prosody (0.12) for integration tests and the demo script.
 *
 * ```ts
 * const prosody = await startProsody();                       // home.localhost + peer.localhost, MUC on both
 * await prosody.register('alice', 'home.localhost', 'pw');
 * const alice = await prosody.client({ username: 'alice', host: 'home.localhost', password: 'pw', resource: 'bot' });
 * // … alice.jid is 'alice@home.localhost/bot'; rooms live on prosody.mucOf('home.localhost')
 * await prosody.stop();                                       // in afterAll: clients, server, temp dir
 * ```
 *
 * Everything lives in a temp dir (config, data, logs, pidfile); nothing under /etc/prosody or /var is used.
 * The server listens for c2s only, on a free loopback port, without TLS (unless `tls`, see {@link HarnessTls});
 * s2s is off: VirtualHosts on one server route to each other internally, so two VirtualHosts stand in for two
 * server deployments.
 * Clients log in with SASL PLAIN (milliseconds). MUC rooms stay locked until their owner configures them
 * (Prosody's default), unless `mucRoomLocking: false`.
 *
 * No leftovers: stop() is idempotent; a process 'exit' hook kills servers a test forgot; and each server has a
 * watchdog (a `sh` reading a pipe from this process) that SIGTERMs it if this process dies without running hooks
 * (SIGKILL, crash). Note the server process is named `lua5.4`: look for it with `pgrep -af prosody`.
 * Set HARNESS_DEBUG=1 to log client errors and keep the temp dir of failed starts.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, execFileP, freePorts, makeCertificates, onPath, PortInUse, ServerProcess, sleep } from './server-process.js';
import { connectClient, stopClient, type Client } from './clients.js';

export { connectClient, isLoopbackService, nextStanza, plainCredentials, sleep, stopClient, until, withTimeout } from './clients.js';
export type { Client, ConnectOptions, CredentialsCallback, Element } from './clients.js';

export interface ProsodyOptions {
  /** VirtualHosts. Default ['home.localhost', 'peer.localhost']. */
  hosts?: string[];
  /** `Component "conference.<host>" "muc"` for every host. Default true. */
  muc?: boolean;
  /** Prosody's `muc_room_locking`. Default true (Prosody's own default): a new room refuses other occupants
   * (item-not-found) until its owner submits the configuration form, as on a real deployment. */
  mucRoomLocking?: boolean;
  /** STARTTLS, required, on some hosts, with a certificate made for the run (see {@link HarnessTls}). Default false. */
  tls?: false | HarnessTls;
  /** Milliseconds to wait for the server to listen. Default 10,000. */
  startTimeoutMs?: number;
  /**
   * Prosody's `c2s_stanza_size_limit` and `s2s_stanza_size_limit` in bytes (its defaults: 256 KB and 512 KB). A client
   * that sends a bigger stanza gets the stream error policy-violation ("XML stanza is too big") and is disconnected.
   */
  stanzaSizeLimit?: number;
  /**
   * A pubsub component `pubsub.<first host>` and a second MUC `rtbl.<first host>` running Debian prosody-modules'
   * `mod_muc_rtbl` (+ `mod_pubsub_subscription`) subscribed to `node` there: a blocked JID is refused entry by
   * Prosody itself. `publishers` become admins of the pubsub component (node owners: they may create and publish).
   * mod_muc_rtbl subscribes only once, when it loads, and Prosody activates hosts in no fixed order: so the harness
   * loads it once the server has started (a three-line module of its own, `mod_harness_load_after_start`), the node
   * is created by that subscription (`autocreate_on_subscribe`), and start() waits for mod_muc_rtbl's "RTBL active".
   */
  rtbl?: { publishers: string[]; node?: string };
}

/**
 * TLS for the harness server: openssl makes a throwaway CA and a server certificate it signs (EC P-256, valid two
 * days) in `<dir>/tls/`, and the `hosts` offer STARTTLS and require it (`c2s_require_encryption`: no SASL mechanism is
 * offered before TLS). The other hosts stay cleartext.
 *
 * Harness clients (`prosody.client()`) trust only public CAs, so they cannot log in to a TLS host: give them
 * accounts on a cleartext host (rooms and stanzas cross between the hosts as usual).
 */
export interface HarnessTls {
  /** VirtualHosts with TLS required. Default: all of them. */
  hosts?: string[];
  /** DNS names the server certificate is issued for. Default: the TLS hosts. A test of a mismatch names others. */
  certNames?: string[];
  /** Also listen for direct TLS (`xmpps://`, XEP-0368) on a second free port: `Prosody.directTlsService`. */
  directTls?: boolean;
}

export interface Prosody {
  /** c2s port on 127.0.0.1. Stays the same across restart(). */
  port: number;
  /** 'xmpp://127.0.0.1:PORT', the `service` option of @xmpp/client. */
  service: string;
  /** The temp dir: prosody.cfg.lua, data/, prosody.log, stdout.log. */
  dir: string;
  hosts: string[];
  /** With `tls`: the PEM file of the CA that signed the server certificate (in `dir`). */
  caFile?: string;
  /** With `tls.directTls`: 'xmpps://127.0.0.1:PORT2'. */
  directTlsService?: string;
  /** 'conference.' + host. */
  mucOf(host: string): string;
  /** Creates an account with `prosodyctl register` (~60 ms; the username is nodeprepped, i.e. lower-cased).
   * Works while the server runs or between restarts. */
  register(username: string, host: string, password: string): Promise<void>;
  /** A client logged in with PLAIN, online, initial presence sent and reflected; stopped by stop(). */
  client(opts: { username: string; host: string; password: string; resource?: string }): Promise<Client>;
  /** SIGTERM, wait for exit, start again on the same port and data (accounts survive; MUC rooms do not). Connected
   * clients see a disconnect and reconnect by themselves (@xmpp/reconnect; 200 ms delay for harness clients). */
  restart(): Promise<void>;
  /** Stops every tracked client and the server, removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** True when `prosody` and `prosodyctl` are on PATH. */
export function prosodyAvailable(): boolean {
  return onPath('prosody') && onPath('prosodyctl');
}

const STOP_GRACE_MS = 3_000;

export async function startProsody(opts: ProsodyOptions = {}): Promise<Prosody> {
  const hosts = opts.hosts ?? ['home.localhost', 'peer.localhost'];
  if (hosts.length === 0) throw new Error('startProsody: at least one host is needed');
  for (const h of hosts) {
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(h)) throw new Error(`startProsody: not a plain host name: ${h}`);
  }
  for (const h of opts.tls ? (opts.tls.hosts ?? []) : []) {
    if (!hosts.includes(h)) throw new Error(`startProsody: tls host ${h} is not one of ${hosts.join(', ')}`);
  }
  if (!prosodyAvailable()) {
    throw new Error('startProsody: prosody/prosodyctl not on PATH (Debian/Ubuntu: apt-get install prosody)');
  }

  const dir = await mkdtemp(join(tmpdir(), 'prosody-test-'));
  const server = new Server(dir, hosts, opts);
  live.add(server);
  try {
    await mkdir(join(dir, 'data'));
    await mkdir(join(dir, 'certs'));
    if (opts.rtbl) await writeLateLoader(join(dir, 'plugins'));
    if (opts.tls) await server.makeCertificates(opts.tls);
    await server.startOnFreePort(opts.startTimeoutMs ?? 10_000);
  } catch (err) {
    await server.stop({ keepDir: !!process.env.HARNESS_DEBUG });
    throw err;
  }
  return server.api();
}

/** Servers of this process not yet stopped, for the 'exit' hook. */
const live = new Set<Server>();
process.on('exit', () => {
  for (const s of live) s.killNow();
});

class Server {
  port = 0;
  /** Direct TLS c2s port, 0 when not asked for. */
  directTlsPort = 0;
  readonly config: string;
  /**
   * Prosody 0.12 logs "Shutdown complete" at once on SIGTERM but, if a client was connected, its epoll loop only
   * notices it may quit on a 1 s timer (net/server_epoll.lua setquitting): once that line is logged nothing is left
   * to flush, so it is SIGKILLed then instead of idling for a second on every restart().
   */
  private readonly process: ServerProcess;
  private readonly clients = new Set<Client>();
  private stopping: Promise<void> | undefined;
  private tls: { hosts: string[]; certificate: string; key: string; caFile: string } | undefined;

  constructor(
    readonly dir: string,
    readonly hosts: string[],
    private readonly opts: ProsodyOptions,
  ) {
    this.config = join(dir, 'prosody.cfg.lua');
    this.process = new ServerProcess({
      dir,
      logFile: join(dir, 'prosody.log'),
      stdoutFile: join(dir, 'stdout.log'),
      doneLine: 'Shutdown complete',
      graceMs: STOP_GRACE_MS,
      watchdogName: 'prosody-watchdog',
    });
  }

  api(): Prosody {
    const service = `xmpp://127.0.0.1:${this.port}`;
    return {
      port: this.port,
      service,
      dir: this.dir,
      hosts: [...this.hosts],
      ...(this.tls ? { caFile: this.tls.caFile } : {}),
      ...(this.directTlsPort ? { directTlsService: `xmpps://127.0.0.1:${this.directTlsPort}` } : {}),
      mucOf: (host) => `conference.${host}`,
      register: (username, host, password) => this.register(username, host, password),
      client: async (o) => {
        if (this.stopping) throw new Error('Prosody.client: the server was stopped');
        const c = await connectClient({ service, ...o });
        this.clients.add(c);
        return c;
      },
      restart: () => this.restart(),
      stop: () => this.stop(),
    };
  }

  async startOnFreePort(timeoutMs: number): Promise<void> {
    // Port 0 → free port → close → Prosody binds it. Another process may grab it in between: then Prosody logs
    // "Failed to open server port" and keeps running without c2s, so look for that and try another port.
    for (let attempt = 1; ; attempt++) {
      const [c2s, directTls] = await freePorts(2);
      this.port = c2s!;
      if (this.opts.tls && this.opts.tls.directTls) this.directTlsPort = directTls!;
      await writeFile(this.config, this.configText());
      try {
        await this.spawnAndWait(timeoutMs);
        return;
      } catch (err) {
        if (!(err instanceof PortInUse) || attempt >= 3) throw err;
        await this.process.stop();
      }
    }
  }

  async makeCertificates(opts: HarnessTls): Promise<void> {
    const hosts = opts.hosts ?? this.hosts;
    const certs = await makeCertificates(join(this.dir, 'tls'), opts.certNames ?? hosts);
    this.tls = { hosts, ...certs };
  }

  private configText(): string {
    const d = (name: string): string => lua(join(this.dir, name));
    const muc = this.opts.muc ?? true;
    const lines = [
      '-- Written by dev-tools/prosody.ts for a throwaway loopback test server.',
      ...(process.getuid?.() === 0 ? ['run_as_root = true'] : []),
      `pidfile = ${d('prosody.pid')}`,
      `data_path = ${d('data')}`,
      `certificates = ${d('certs')}`,
      `log = { { levels = { min = ${lua(process.env.HARNESS_DEBUG ? 'debug' : 'info')} }, to = "file", filename = ${d('prosody.log')} } }`,
      ...(this.opts.rtbl ? [`plugin_paths = { ${d('plugins')} }`] : []),
      'interfaces = { "127.0.0.1" }',
      'local_interfaces = { "127.0.0.1" }',
      `c2s_ports = { ${this.port} }`,
      ...this.directTlsLines(),
      'legacy_ssl_ports = {}',
      's2s_ports = {}',
      'component_ports = {}',
      'http_ports = {}',
      'https_ports = {}',
      // No mod_limits (Debian's stock config throttles c2s to 10 KB/s), no mod_tls, no s2s.
      'modules_enabled = { "roster", "saslauth", "disco", "presence", "message", "iq", "offline", "ping", "posix" }',
      'modules_disabled = { "s2s" }',
      'authentication = "internal_plain"',
      'storage = "internal"',
      'c2s_require_encryption = false',
      'allow_unencrypted_plain_auth = true',
      `muc_room_locking = ${(this.opts.mucRoomLocking ?? true) ? 'true' : 'false'}`,
      ...(this.opts.stanzaSizeLimit !== undefined
        ? [`c2s_stanza_size_limit = ${Math.floor(this.opts.stanzaSizeLimit)}`, `s2s_stanza_size_limit = ${Math.floor(this.opts.stanzaSizeLimit)}`]
        : []),
      '',
      ...this.hosts.flatMap((h) => [`VirtualHost ${lua(h)}`, ...this.hostTlsLines(h)]),
      '',
      // muc_mam: rooms archive their messages, so each carries a XEP-0359 stanza-id (by the room) that replies and
      // reactions (XEP-0461, XEP-0444) point at.
      ...(muc ? this.hosts.flatMap((h) => [`Component ${lua(`conference.${h}`)} "muc"`, '  modules_enabled = { "muc_mam" }']) : []),
      '',
      ...this.rtblLines(),
      '',
    ];
    return lines.join('\n');
  }

  /** The pubsub service before the MUC that subscribes to it, so it is there when mod_muc_rtbl loads. */
  private rtblLines(): string[] {
    const rtbl = this.opts.rtbl;
    if (!rtbl) return [];
    const host = this.hosts[0]!;
    return [
      `Component ${lua(`pubsub.${host}`)} "pubsub"`,
      `  admins = { ${rtbl.publishers.map(lua).join(', ')} }`,
      '  autocreate_on_subscribe = true',
      `Component ${lua(`rtbl.${host}`)} "muc"`,
      '  modules_enabled = { "harness_load_after_start" }',
      '  load_after_start = { "muc_rtbl" }',
      `  muc_rtbl_jid = ${lua(`pubsub.${host}`)}`,
      `  muc_rtbl_node = ${lua(rtbl.node ?? 'muc_bans_sha256')}`,
    ];
  }

  /** The direct TLS listener: its port and the certificate it presents (the same as STARTTLS's). */
  private directTlsLines(): string[] {
    if (!this.directTlsPort || !this.tls) return ['c2s_direct_tls_ports = {}'];
    return [
      `c2s_direct_tls_ports = { ${this.directTlsPort} }`,
      `c2s_direct_tls_ssl = { certificate = ${lua(this.tls.certificate)}, key = ${lua(this.tls.key)} }`,
    ];
  }

  /** Under a VirtualHost with TLS: mod_tls, encryption required, the run's certificate. */
  private hostTlsLines(host: string): string[] {
    if (!this.tls?.hosts.includes(host)) return [];
    return [
      '  modules_enabled = { "tls" }',
      '  c2s_require_encryption = true',
      `  ssl = { certificate = ${lua(this.tls.certificate)}, key = ${lua(this.tls.key)} }`,
    ];
  }

  private async spawnAndWait(timeoutMs: number): Promise<void> {
    await this.process.spawn('prosody', ['--config', this.config, '-F'], { cwd: this.dir });
    const activated = `Activated service 'c2s' on [127.0.0.1]:${this.port}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.process.exitInfo) throw new Error(`prosody exited during start-up (${this.process.exitInfo})\n${await this.process.logTail()}`);
      const log = await this.process.logSinceStart();
      if (log.includes('Failed to open server port')) throw new PortInUse(`port ${this.port} taken\n${log}`);
      const direct = `Activated service 'c2s_direct_tls' on [127.0.0.1]:${this.directTlsPort}`;
      const directReady = !this.directTlsPort || (log.includes(direct) && (await accepts(this.directTlsPort)));
      if (this.opts.rtbl && log.includes('Failed to subscribe to RTBL')) throw new Error(`mod_muc_rtbl could not subscribe\n${log}`);
      const rtblReady = !this.opts.rtbl || log.includes('RTBL active');
      if (log.includes(activated) && directReady && rtblReady && (await accepts(this.port))) return;
      if (Date.now() > deadline) {
        await this.process.stop();
        throw new Error(`prosody did not listen on 127.0.0.1:${this.port} within ${timeoutMs} ms\n${await this.process.logTail()}`);
      }
      await sleep(10);
    }
  }

  async register(username: string, host: string, password: string): Promise<void> {
    if (!this.hosts.includes(host)) throw new Error(`Prosody.register: ${host} is not one of ${this.hosts.join(', ')}`);
    // With no password prosodyctl would prompt for one on stdin and hang.
    if (!username || !password) throw new Error('Prosody.register: username and password must not be empty');
    try {
      await execFileP('prosodyctl', ['--config', this.config, 'register', username, host, password], {
        cwd: this.dir,
        timeout: 10_000,
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`prosodyctl register ${username}@${host} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  }

  async restart(): Promise<void> {
    if (this.stopping) throw new Error('Prosody.restart: the server was stopped');
    await this.process.stop();
    await this.spawnAndWait(this.opts.startTimeoutMs ?? 10_000);
  }

  stop(o: { keepDir?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all([...this.clients].map((c) => stopClient(c)));
      this.clients.clear();
      await this.process.stop();
      live.delete(this);
      if (!o.keepDir) await rm(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  /** Synchronous last resort from the process 'exit' hook. */
  killNow(): void {
    this.process.killNow();
  }
}

/**
 * Loads the modules named in `load_after_start` on its host once the server has started: every host is active by
 * then, so a module that talks to another host at load time (mod_muc_rtbl subscribing to the pubsub service) finds it.
 */
async function writeLateLoader(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const lua = [
    'local modulemanager = require "core.modulemanager";',
    'local names = module:get_option_array("load_after_start", {});',
    'module:hook_global("server-started", function()',
    '  for _, name in ipairs(names) do modulemanager.load(module.host, name); end',
    'end);',
    '',
  ];
  await writeFile(join(dir, 'mod_harness_load_after_start.lua'), lua.join('\n'));
}

/** A Lua double-quoted string literal. */
function lua(s: string): string {
  return `"${s.replace(/[\\"\x00-\x1f\x7f]/g, (c) => `\\${String(c.charCodeAt(0)).padStart(3, '0')}`)}"`;
}
