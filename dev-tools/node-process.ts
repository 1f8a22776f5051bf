/**
 * A TypeScript entry point (`node --import tsx FILE …`) in a child process, started and awaited until its output
 * says it is ready: the bot for the crash run and the benchmarks, the echo bot for the benchmarks.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface NodeProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The tail of its stdout and stderr, for error messages. */
  output: () => string;
}

export interface NodeProcessOptions {
  /** Ready once this holds for everything it has written to stdout so far. */
  ready: (stdout: string) => boolean;
  /** What it is, for error messages ("the bot"). */
  what: string;
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Node options placed before `--import tsx` (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

/** Starts it; rejects (and kills it) if it exits or is not ready in time. Its output is kept as a bounded tail. */
export async function startNodeProcess(args: string[], opts: NodeProcessOptions): Promise<NodeProcess> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', ...args], {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const output = () => `--- stdout ---\n${stdout.slice(-4000)}\n--- stderr ---\n${stderr.slice(-4000)}`;
  await new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`${opts.what} was not ready within ${timeoutMs} ms\n${output()}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (opts.ready(stdout)) finish();
    });
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    void exited.then(({ code, signal }) => finish(new Error(`${opts.what} exited during start-up (${signal ?? `code ${code}`})\n${output()}`)));
  });
  // From now on keep only a bounded tail (a burst can log a line per report), and keep draining the pipe.
  child.stdout!.removeAllListeners('data');
  child.stdout!.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-8000)));
  return { child, exited, output };
}
