/**
 * Crash safety: `kill -9` the real bot (its CLI, as a child process) in the middle of a burst of IODEF reports
 * from a peer, restart it, and check that every report that got an IQ result is in the store and that the store
 * reads back whole (every record decodes and passes its checksum). Used by `scripts/crash-test.ts` (1,000
 * reports) and test/robustness/crash.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readStoreContents } from '../src/core/store-reader.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { encodeIodef } from '../src/protocol/iodef.js';
import { sampleIncident } from './peers.js';
import { startNodeProcess, type NodeProcess } from './node-process.js';
import { startProsody, type Prosody } from './prosody.js';
import { botConfigJson } from './room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'crash-test-pw';
const root = new URL('../', import.meta.url).pathname;

export interface CrashOptions {
  /** Reports the peer sends (at most; sending stops at the kill). */
  reports: number;
  /** The bot is sent SIGKILL as soon as this many IQ results have arrived. */
  killAfterAcks: number;
  /** IQs outstanding at once. Default 64. */
  window?: number;
  /** Milliseconds the peer waits for each IQ result. Default 5,000. */
  iqTimeoutMs?: number;
}

export interface CrashReport {
  /** Reports put on the wire before the kill. */
  sent: number;
  /** Reports that got an IQ result (before the kill, or in flight when it happened). */
  acked: number;
  /** Incidents in the store after the restart. */
  storedAfterRestart: number;
  /** Ids that got an IQ result but are not in the store after the restart: must be empty. */
  ackedButMissing: string[];
  /** Whether the store read back whole right after the kill (and after the restart): every record decoded and passed its checksum. */
  fileValid: boolean;
  seconds: number;
}

type RunningBot = NodeProcess;

/** Starts `node --import tsx src/main.ts --config FILE` and resolves once it logged "bot started". */
function startBotProcess(configFile: string, timeoutMs = 30_000): Promise<RunningBot> {
  return startNodeProcess(['src/main.ts', '--config', configFile], {
    ready: (stdout) => stdout.includes('"msg":"bot started"'),
    what: 'the bot',
    timeoutMs,
    cwd: root,
  });
}

/** Reads what is on disk without opening the store for writing (nothing is repaired before we look). */
async function readStore(path: string): Promise<{ valid: boolean; ids: string[]; error?: string }> {
  try {
    const data = await readStoreContents(path);
    return { valid: true, ids: data.incidents.map((s) => s.incident.id) };
  } catch (err) {
    return { valid: false, ids: [], error: (err as Error).message };
  }
}

export async function crashRun(opts: CrashOptions): Promise<CrashReport> {
  const window = opts.window ?? 64;
  const iqTimeoutMs = opts.iqTimeoutMs ?? 5_000;
  const started = Date.now();
  let prosody: Prosody | undefined;
  let dir: string | undefined;
  const bots: RunningBot[] = [];
  try {
    prosody = await startProsody({ hosts: [HOME, PEER] });
    await prosody.register('incidents', HOME, PASSWORD);
    await prosody.register('incidents', PEER, PASSWORD);
    dir = await mkdtemp(join(tmpdir(), 'incident-bot-crash-'));
    const storePath = join(dir, 'incidents.json');
    const config = {
      ...botConfigJson({
        service: prosody.service,
        domain: HOME,
        username: 'incidents',
        password: PASSWORD,
        storagePath: storePath,
        defaultRoom: `ops@${prosody.mucOf(HOME)}`,
        peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
      }),
      limits: { reportsPerMinute: 1_000_000, burst: 1_000_000 },
    };
    const configFile = join(dir, 'bot.config.json');
    await writeFile(configFile, JSON.stringify(config));

    const first = await startBotProcess(configFile);
    bots.push(first);
    const peer = await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' });
    const to = `incidents@${HOME}/bot`;

    const acked: string[] = [];
    let sent = 0;
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      first.child.kill('SIGKILL');
    };
    const sendOne = async (): Promise<void> => {
      const incident = sampleIncident(PEER);
      sent += 1;
      try {
        await peer.iqCaller.request(xml('iq', { type: 'set', to }, encodeIodef('report', incident)), iqTimeoutMs);
        // A result that arrives after the kill was still sent by the bot before it died: it counts too.
        acked.push(incident.id);
        if (acked.length >= opts.killAfterAcks) kill();
      } catch {
        // Errors and time-outs (the bot is gone) are expected once it is killed.
      }
    };
    const worker = async (): Promise<void> => {
      while (!killed && sent < opts.reports) await sendOne();
    };
    await Promise.all(Array.from({ length: Math.min(window, Math.max(opts.reports, 1)) }, worker));
    // Fewer acks than killAfterAcks (e.g. killAfterAcks > reports): kill anyway, after the burst.
    kill();
    const exit = await first.exited;
    if (exit.signal !== 'SIGKILL') throw new Error(`the bot ended with ${exit.signal ?? `code ${exit.code}`}, not SIGKILL\n${first.output()}`);

    const afterKill = await readStore(storePath);

    const second = await startBotProcess(configFile);
    bots.push(second);
    const afterRestart = await readStore(storePath);
    const stored = new Set(afterRestart.ids.map((id) => id.toLowerCase()));
    const ackedButMissing = acked.filter((id) => !stored.has(id.toLowerCase()));

    second.child.kill('SIGTERM');
    await second.exited;
    return {
      sent,
      acked: acked.length,
      storedAfterRestart: afterRestart.ids.length,
      ackedButMissing,
      fileValid: afterKill.valid && afterRestart.valid,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const b of bots) {
      if (b.child.exitCode === null && b.child.signalCode === null) {
        b.child.kill('SIGKILL');
        await b.exited;
      }
    }
    await prosody?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
