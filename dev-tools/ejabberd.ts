/**
 * A throwaway real ejabberd (Debian's 23.01) for integration tests, beside the Prosody harness and with the same
 * interface (see xmpp-server.ts), so a test can be written once and run on both.
 *
 * ```ts
 * const ejabberd = await startEjabberd();                    // home.localhost + peer.localhost, MUC on both
 * await ejabberd.register('alice', 'home.localhost', 'pw');
 * const alice = await ejabberd.client({ username: 'alice', host: 'home.localhost', password: 'pw', resource: 'x' });
 * await ejabberd.ctl(['change_room_option', 'ops', 'conference.home.localhost', 'anonymous', 'false']);
 * await ejabberd.stop();                                     // in afterAll: clients, server, temp dir
 * ```
 *
 * Everything lives in a temp dir: ejabberd.yml, the ejabberdctl config (`--ctl-config`), spool/ (mnesia), logs/,
 * and bin/ejabberdctl (this instance's ejabberdctl; put `bin` first in PATH to run documented commands unchanged).
 * Nothing under /etc/ejabberd or /var is used, and the system service is never touched.
 *
 * - Listeners, all on 127.0.0.1 and free ports: c2s without TLS (clients log in with PLAIN in milliseconds, as on
 *   the Prosody harness), with `tls` a second c2s port requiring STARTTLS with a certificate made by openssl for the
 *   run (`tlsService`, `caFile`), and ejabberd_http with mod_http_api (`command()`: admin commands in milliseconds,
 *   where an `ejabberdctl` call costs ~0.5 s of Erlang start-up).
 * - Erlang distribution, epmd-less: the node listens on its own free port (ejabberdctl's ERL_DIST_PORT, bound to
 *   127.0.0.1) and its ctl clients connect there directly, so no epmd is started and none is killed (ejabberdctl
 *   kills an idle epmd on some paths, not with ERL_DIST_PORT). Its name is registered with no epmd either: the
 *   node would register with one running on the usual port (Debian's package leaves one running), so its
 *   ERL_EPMD_PORT points at a closed port. Parallel test files and engineers cannot collide. The node name is unique per instance anyway
 *   (`ejabberd-test-<random>@localhost`, mnesia ties its schema to it). The node reads its cookie from a file
 *   (HOME is the temp dir's `home/`), never from its command line: a random one, or as root the system ejabberd's
 *   (/var/lib/ejabberd/.erlang.cookie, which only root and `ejabberd` can read), because Debian's ejabberdctl runs
 *   its client as the ejabberd user with that user's cookie file. (Root without that file: the ctl config passes a
 *   random cookie to ejabberdctl on its command line, visible in `ps` while a command runs.)
 * - Who runs it: the server runs as the calling user (root in CI, or a developer): it is started with `erl` and the
 *   arguments `ejabberdctl foreground` would use, because Debian's ejabberdctl switches root to the `ejabberd` user
 *   and refuses every other user. ejabberd itself runs fine as root. `ctl()` runs Debian's ejabberdctl when called
 *   as root (as the `ejabberd` user, like on a server: the temp dir is then group-readable by `ejabberd`), and for
 *   other users the same Erlang ctl client that ejabberdctl would run.
 * - No leftovers: stop() is idempotent; a process 'exit' hook kills servers a test forgot; a watchdog (a `sh` on a
 *   pipe from this process) SIGTERMs the server and removes its temp dir if this process dies without hooks. The
 *   server process is `beam.smp` with `-sname ejabberd-test-…`: `pgrep -af 'beam.*ejabberd-test-'`.
 * Set HARNESS_DEBUG=1 for ejabberd's debug log and to keep the temp dir of a failed start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, stopClient, type Client } from './clients.js';
import { ctlConfig, ctlWrapper, ejabberdYml, pathsIn, serverArgs, type EjabberdFiles } from './ejabberd-config.js';
import { accepts, execFileP, freePorts, makeCertificates, onPath, PortInUse, ServerProcess, sleep } from './server-process.js';

export interface EjabberdOptions {
  /** Virtual hosts. Default ['home.localhost', 'peer.localhost']. */
  hosts?: string[];
  /** mod_muc on `conference.<host>` for every host, and mod_muc_admin. Default true. */
  muc?: boolean;
  /** mod_muc `default_room_options`. Default: none, i.e. ejabberd's own defaults (what an operator gets). */
  roomDefaults?: Record<string, string | boolean | number>;
  /** A second c2s port requiring STARTTLS. Default false. */
  tls?: false | EjabberdTls;
  /** Milliseconds to wait for the server to listen. Default 30,000 (it takes ~1.5 s on an idle machine). */
  startTimeoutMs?: number;
}

export interface EjabberdTls {
  /** DNS names of the certificate openssl makes for the run. Default: the hosts and their MUC services. */
  certNames?: string[];
  /** PEM files to serve instead (certificate and key), e.g. made by a documented procedure. Then no CA is made. */
  certfiles?: string[];
}

export interface Ejabberd {
  kind: 'ejabberd';
  /** c2s port on 127.0.0.1 without TLS. Stays the same across restart(). */
  port: number;
  service: string;
  /** With `tls`: 'xmpp://127.0.0.1:PORT' of the c2s port that requires STARTTLS. */
  tlsService?: string;
  /** With `tls` (and no `certfiles`): the PEM of the CA that signed the server certificate. */
  caFile?: string;
  dir: string;
  hosts: string[];
  /** The Erlang node name, unique per instance. */
  node: string;
  /** This instance's ejabberdctl config: `ejabberdctl --ctl-config <ctlConfig> status` (as root). */
  ctlConfig: string;
  /** A folder holding `ejabberdctl` for this instance: first in PATH, documented commands run unchanged. */
  binDir: string;
  mucOf(host: string): string;
  /** Creates an account (mod_http_api `register`, a few ms). The server must be running. */
  register(username: string, host: string, password: string): Promise<void>;
  client(opts: { username: string; host: string; password: string; resource?: string }): Promise<Client>;
  /** An ejabberd API command over mod_http_api (same commands as ejabberdctl); rejects with its error text. */
  command(name: string, args?: Record<string, unknown>): Promise<unknown>;
  /** `ejabberdctl ARGS` for this instance (~0.5 s); rejects on a non-zero exit, with the output. */
  ctl(args: string[]): Promise<string>;
  /** Stop (the server's own shutdown, then no waiting for the VM), start again on the same ports and spool:
   * accounts and persistent rooms survive. Harness clients reconnect by themselves. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Debian's ejabberdctl and what it runs ejabberd with (the Erlang binary and the ejabberd library folder). */
interface SystemEjabberd {
  ejabberdctl: string;
  erl: string;
  erlLibs: string;
}

function systemEjabberd(): SystemEjabberd | undefined {
  const candidates = [...(onPath('ejabberdctl') ? ['ejabberdctl'] : []), '/usr/sbin/ejabberdctl', '/usr/local/sbin/ejabberdctl'];
  for (const c of candidates) {
    const path = c.includes('/') ? c : whichSync(c);
    if (!path || !existsSync(path)) continue;
    const script = readFileSync(path, 'utf8');
    const erl = /^ERL="([^"]+)"/m.exec(script)?.[1];
    const erlLibs = /^ERL_LIBS='([^']+)'/m.exec(script)?.[1];
    if (erl && erlLibs && existsSync(erl)) return { ejabberdctl: path, erl, erlLibs };
  }
  return undefined;
}

function whichSync(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  return undefined;
}

/** True when Debian's ejabberd (ejabberdctl and the Erlang it names) is installed. */
export function ejabberdAvailable(): boolean {
  return systemEjabberd() !== undefined;
}

const STOP_GRACE_MS = 5_000;

export async function startEjabberd(opts: EjabberdOptions = {}): Promise<Ejabberd> {
  const hosts = opts.hosts ?? ['home.localhost', 'peer.localhost'];
  if (hosts.length === 0) throw new Error('startEjabberd: at least one host is needed');
  for (const h of hosts) {
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(h)) throw new Error(`startEjabberd: not a plain lower-case host name: ${h}`);
  }
  const sys = systemEjabberd();
  if (!sys) throw new Error('startEjabberd: Debian ejabberd not found (apt-get install ejabberd; its service need not run)');
  const dir = await mkdtemp(join(tmpdir(), 'ejabberd-test-'));
  const server = new Server(dir, hosts, opts, sys);
  live.add(server);
  try {
    await server.prepare();
    await server.startOnFreePorts(opts.startTimeoutMs ?? 30_000);
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

const asRoot = process.getuid?.() === 0;

class Server {
  private readonly files: EjabberdFiles;
  private readonly paths: ReturnType<typeof pathsIn>;
  /**
   * On SIGTERM ejabberd runs its own shutdown (sessions closed, mnesia synced) and logs "is stopped in the node"
   * within ~0.1 s; the Erlang VM then idles ~3 s more before it exits, with nothing left to write: it is SIGKILLed
   * once that line is logged (accounts and rooms survive: see the tests' restarts).
   */
  private readonly process: ServerProcess;
  private readonly clients = new Set<Client>();
  private stopping: Promise<void> | undefined;
  private caFile: string | undefined;
  /** A port nothing listens on (see ERL_EPMD_PORT). */
  private deadPort = 0;

  constructor(
    readonly dir: string,
    readonly hosts: string[],
    private readonly opts: EjabberdOptions,
    private readonly sys: SystemEjabberd,
  ) {
    this.paths = pathsIn(dir);
    this.process = new ServerProcess({
      dir,
      logFile: this.paths.log,
      stdoutFile: this.paths.stdout,
      doneLine: ' is stopped in the node ',
      graceMs: STOP_GRACE_MS,
      watchdogName: 'ejabberd-watchdog',
    });
    this.files = {
      dir,
      hosts,
      port: 0,
      tlsPort: 0,
      httpPort: 0,
      distPort: 0,
      node: `ejabberd-test-${randomBytes(4).toString('hex')}@localhost`,
      cookie: randomBytes(18).toString('hex'),
      cookieForCtl: false,
      muc: opts.muc ?? true,
      roomDefaults: opts.roomDefaults ?? {},
      certfiles: [],
      debug: !!process.env.HARNESS_DEBUG,
    };
  }

  api(): Ejabberd {
    const service = `xmpp://127.0.0.1:${this.files.port}`;
    return {
      kind: 'ejabberd',
      port: this.files.port,
      service,
      ...(this.files.tlsPort ? { tlsService: `xmpp://127.0.0.1:${this.files.tlsPort}` } : {}),
      ...(this.caFile ? { caFile: this.caFile } : {}),
      dir: this.dir,
      hosts: [...this.hosts],
      node: this.files.node,
      ctlConfig: this.paths.ctlConfig,
      binDir: this.paths.bin,
      mucOf: (host) => `conference.${host}`,
      register: (username, host, password) => this.register(username, host, password),
      client: async (o) => {
        if (this.stopping) throw new Error('Ejabberd.client: the server was stopped');
        const c = await connectClient({ service, ...o });
        this.clients.add(c);
        return c;
      },
      command: (name, args) => this.command(name, args ?? {}),
      ctl: (args) => this.ctl(args),
      restart: () => this.restart(),
      stop: () => this.stop(),
    };
  }

  /** Folders, cookie, certificates; as root, lets the `ejabberd` group in (Debian's ejabberdctl runs commands as
   * the ejabberd user). */
  async prepare(): Promise<void> {
    for (const d of [this.paths.spool, this.paths.logs, this.paths.bin, this.paths.home]) await mkdir(d, { recursive: true });
    await chmod(this.paths.home, 0o700);
    if (asRoot) {
      // Debian's ejabberdctl runs its Erlang client as the ejabberd user, with that user's cookie file: the node
      // shares it (so it is on no command line). Without one, ejabberdctl gets this node's cookie on its command line.
      const system = systemCookie();
      if (system) this.files.cookie = system;
      else this.files.cookieForCtl = true;
    }
    await writeFile(this.paths.cookieFile, this.files.cookie, { mode: 0o400 });
    const tls = this.opts.tls;
    if (tls) {
      if (tls.certfiles?.length) {
        this.files.certfiles = [...tls.certfiles];
      } else {
        const names = tls.certNames ?? this.hosts.flatMap((h) => [h, `conference.${h}`]);
        const certs = await makeCertificates(join(this.dir, 'tls'), names);
        this.files.certfiles = [certs.certificate, certs.key];
        this.caFile = certs.caFile;
      }
    }
    if (asRoot) {
      const gid = ejabberdGroup();
      if (gid !== undefined) {
        for (const d of [this.dir, this.paths.spool, this.paths.logs]) {
          await chown(d, 0, gid);
          await chmod(d, 0o750);
        }
      }
    }
  }

  async startOnFreePorts(timeoutMs: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const [port, httpPort, distPort, deadPort, tlsPort] = await freePorts(5);
      this.files.port = port!;
      this.files.httpPort = httpPort!;
      this.files.distPort = distPort!;
      this.deadPort = deadPort!;
      if (this.opts.tls) this.files.tlsPort = tlsPort!;
      await this.writeFiles();
      try {
        await this.spawnAndWait(timeoutMs);
        return;
      } catch (err) {
        if (!(err instanceof PortInUse) || attempt >= 3) throw err;
        await this.process.stop();
      }
    }
  }

  private async writeFiles(): Promise<void> {
    await writeFile(this.paths.config, ejabberdYml(this.files));
    await writeFile(this.paths.ctlConfig, ctlConfig(this.files), { mode: 0o600 });
    await writeFile(this.paths.ctl, ctlWrapper(this.files, this.sys, asRoot), { mode: 0o755 });
  }

  private async spawnAndWait(timeoutMs: number): Promise<void> {
    await this.process.spawn(this.sys.erl, serverArgs(this.files), {
      cwd: this.paths.spool,
      env: {
        ...process.env,
        EJABBERD_CONFIG_PATH: this.paths.config,
        EJABBERD_LOG_PATH: this.paths.log,
        EJABBERD_PID_PATH: this.paths.pidfile,
        ERL_LIBS: this.sys.erlLibs,
        ERL_CRASH_DUMP: join(this.paths.logs, 'erl_crash.dump'),
        ERL_MAX_PORTS: '32000',
        ERL_MAX_ETS_TABLES: '1400',
        HOME: this.paths.home,
        // Epmd-less (ERL_DIST_PORT) the node still registers its name with an epmd if one runs on the usual port
        // (Debian's package leaves one running): point it at a closed port, so it registers nowhere.
        ERL_EPMD_PORT: String(this.deadPort),
      },
    });
    const listening = (port: number, module: string) => `Start accepting TCP connections at 127.0.0.1:${port} for ${module}`;
    const wanted = [listening(this.files.port, 'ejabberd_c2s'), listening(this.files.httpPort, 'ejabberd_http')];
    if (this.files.tlsPort) wanted.push(listening(this.files.tlsPort, 'ejabberd_c2s'));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = await this.process.logSinceStart();
      if (this.process.exitInfo) {
        const tail = await this.process.logTail();
        if (/eaddrinuse|address already in use/i.test(tail)) throw new PortInUse(`a port was taken\n${tail}`);
        throw new Error(`ejabberd exited during start-up (${this.process.exitInfo})\n${tail}`);
      }
      if (wanted.every((w) => log.includes(w)) && (await accepts(this.files.port))) return;
      if (Date.now() > deadline) {
        await this.process.stop();
        throw new Error(`ejabberd did not listen on 127.0.0.1:${this.files.port} within ${timeoutMs} ms\n${await this.process.logTail()}`);
      }
      await sleep(20);
    }
  }

  async register(username: string, host: string, password: string): Promise<void> {
    if (!this.hosts.includes(host)) throw new Error(`Ejabberd.register: ${host} is not one of ${this.hosts.join(', ')}`);
    if (!username || !password) throw new Error('Ejabberd.register: username and password must not be empty');
    await this.command('register', { user: username, host, password });
  }

  async command(name: string, args: Record<string, unknown>): Promise<unknown> {
    const res = await fetch(`http://127.0.0.1:${this.files.httpPort}/api/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`ejabberd API ${name} ${JSON.stringify(args)}: HTTP ${res.status} ${text}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  async ctl(args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileP(this.paths.ctl, args, { cwd: this.dir, timeout: 30_000 });
      return stdout;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`ejabberdctl ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  }

  async restart(): Promise<void> {
    if (this.stopping) throw new Error('Ejabberd.restart: the server was stopped');
    await this.process.stop();
    await this.spawnAndWait(this.opts.startTimeoutMs ?? 30_000);
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

/** The cookie of Debian's ejabberd node (its postinst makes one), readable by root. */
function systemCookie(): string | undefined {
  try {
    const cookie = readFileSync('/var/lib/ejabberd/.erlang.cookie', 'utf8').trim();
    return /^[A-Za-z0-9]+$/.test(cookie) ? cookie : undefined;
  } catch {
    return undefined;
  }
}

/** The gid of the `ejabberd` group (Debian's package creates it), if any. */
function ejabberdGroup(): number | undefined {
  try {
    const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith('ejabberd:'));
    const gid = line ? Number(line.split(':')[2]) : NaN;
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}
