/**
 * What the throwaway-server harnesses (prosody.ts, ejabberd.ts) share: the server process with its watchdog (which
 * stops a server whose test process died), free loopback ports, a throwaway CA and server certificate.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

export const execFileP = promisify(execFile);

/** True when `cmd` is an executable on PATH. */
export function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, cmd), fsConstants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/**
 * A `sh` that SIGTERMs the server (SIGKILL 3 s later) and removes its temp dir once its stdin (a pipe from this
 * process) reaches EOF, i.e. when this process is gone however it died. Kill it on a normal stop.
 */
export function startWatchdog(pid: number | undefined, dir: string, name = 'server-watchdog'): ChildProcess | undefined {
  if (pid === undefined) return undefined;
  const script = 'read _ ; kill -TERM "$1" 2>/dev/null; sleep 3; kill -KILL "$1" 2>/dev/null; rm -rf "$2"';
  const dog = spawn('sh', ['-c', script, name, String(pid), dir], { stdio: ['pipe', 'ignore', 'ignore'] });
  dog.on('error', () => {});
  dog.stdin?.on('error', () => {});
  dog.unref();
  (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return dog;
}

export interface Certificates {
  certificate: string;
  key: string;
  caFile: string;
}

/**
 * A CA and a server certificate for `names` signed by it, made with openssl in `dir` (~20 ms: EC keys). The CA has
 * `CA:TRUE` and keyCertSign (OpenSSL 3 refuses a chain without them); the server certificate carries the names as
 * subjectAltName DNS entries, which is what TLS clients check.
 */
export async function makeCertificates(dir: string, names: string[]): Promise<Certificates> {
  await mkdir(dir, { recursive: true });
  const at = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = async (args: string[]) => {
    try {
      await execFileP('openssl', args, { cwd: dir, timeout: 10_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`openssl ${args[0]} failed: ${e.message}\n${e.stderr ?? ''}`);
    }
  };
  await openssl(['req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.crt'), '-days', '2', '-subj', '/CN=incident-bot test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await openssl(['req', ...ec, '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', `/CN=${names[0] ?? 'localhost'}`]);
  await writeFile(
    at('server.ext'),
    [`subjectAltName = ${names.map((n) => `DNS:${n}`).join(', ')}`, 'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature', 'extendedKeyUsage = serverAuth', ''].join('\n'),
  );
  await openssl(['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-set_serial', `0x${Date.now().toString(16)}`,
    '-days', '2', '-extfile', at('server.ext'), '-out', at('server.crt')]);
  return { certificate: at('server.crt'), key: at('server.key'), caFile: at('ca.crt') };
}

/** A port the OS says is free on 127.0.0.1 (another process may take it before the server binds it: retry then). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * `count` distinct free ports. All are held open until the last is known: asking one at a time may get the same
 * port twice (the OS hands a just-closed port out again), and a server told to listen twice on one port fails.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const srv = createServer();
      srv.unref();
      servers.push(srv);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(0, '127.0.0.1', () => {
            const addr = srv.address();
            if (typeof addr === 'object' && addr) resolve(addr.port);
            else reject(new Error('no port from the OS'));
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((srv) => new Promise<void>((resolve) => (srv.listening ? srv.close(() => resolve()) : resolve()))));
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The server refused to bind its port (another process took it between freePort() and the bind). */
export class PortInUse extends Error {}

export interface ServerProcessOptions {
  /** The temp dir (removed by the watchdog if this process dies). */
  dir: string;
  /** The server's own log file: readiness and shutdown are read from what it writes after each spawn. */
  logFile: string;
  /** Where the server's stdout and stderr go (appended). */
  stdoutFile: string;
  /** A line the server logs once its shutdown has nothing left to write: it is then SIGKILLed instead of waited for. */
  doneLine: string;
  /** SIGKILL this long after SIGTERM whatever happens. */
  graceMs: number;
  /** Names the watchdog in `ps`. */
  watchdogName: string;
}

/**
 * A server process of a harness: spawned with its output in a file, watched by a watchdog, stopped by SIGTERM and,
 * once it logs `doneLine` (or after `graceMs`), SIGKILL. `exitInfo` says how it ended, if it has.
 */
export class ServerProcess {
  exitInfo: string | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private watchdog: ChildProcess | undefined;
  private logStart = 0;

  constructor(private readonly o: ServerProcessOptions) {}

  async spawn(command: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<void> {
    // Servers append to their logs: the checks only look at what this run writes.
    this.logStart = (await readFile(this.o.logFile, 'utf8').catch(() => '')).length;
    const out = openSync(this.o.stdoutFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, { cwd: opts.cwd, ...(opts.env ? { env: opts.env } : {}), stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    this.child = child;
    this.exitInfo = undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
        resolve();
      });
      child.once('error', (err) => {
        this.exitInfo = `spawn error: ${err.message}`;
        resolve();
      });
    });
    child.unref(); // a forgotten stop() must not keep the test process alive; the 'exit' hook kills the server
    this.watchdog = startWatchdog(child.pid, this.o.dir, this.o.watchdogName);
  }

  /** What the server logged since the last spawn. */
  async logSinceStart(): Promise<string> {
    return (await readFile(this.o.logFile, 'utf8').catch(() => '')).slice(this.logStart);
  }

  /** SIGTERM, wait for exit (SIGKILL once `doneLine` is logged, or after `graceMs`). Also ends the watchdog. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      let exited = false;
      void this.exited.then(() => (exited = true));
      child.kill('SIGTERM');
      const deadline = Date.now() + this.o.graceMs;
      while (!exited) {
        if (Date.now() > deadline || (await this.logSinceStart()).includes(this.o.doneLine)) child.kill('SIGKILL');
        await Promise.race([this.exited, sleep(20)]);
      }
    }
    this.child = undefined;
    this.watchdog?.kill('SIGKILL');
    this.watchdog = undefined;
  }

  /** Synchronous last resort from the process 'exit' hook: the server, its watchdog, the temp dir. */
  killNow(): void {
    this.watchdog?.kill('SIGKILL');
    this.child?.kill('SIGKILL');
    try {
      rmSync(this.o.dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }

  /** The last lines of the log and of stdout, for error messages. */
  async logTail(): Promise<string> {
    const tail = async (file: string): Promise<string> => {
      const text = await readFile(file, 'utf8').catch(() => '');
      return `--- ${file} (last lines) ---\n${text.split('\n').slice(-30).join('\n')}`;
    };
    return `${await tail(this.o.logFile)}\n${await tail(this.o.stdoutFile)}`;
  }
}
