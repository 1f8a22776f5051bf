/**
 * Benchmarks against the real Prosody harness: `npx tsx bench/run.ts [--quick]`.
 * Every figure is printed next to a baseline measured in the same run. Exits 0 even when a target is missed
 * (it is a measurement); non-zero only when the harness itself fails.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import xml from '@xmpp/xml';
import parse from 'ltx/lib/parse.js';
import { parseConfig } from '../src/core/config.js';
import { IncidentStore, incidentKey } from '../src/core/store.js';
import { receiveReport } from '../src/core/workflow.js';
import { silentLogger } from '../src/log.js';
import { decodeIodef, encodeIodef, findIodefPayload, INCIDENT_NS, IODEF_NS } from '../src/protocol/iodef.js';
import { parseXml } from '../src/protocol/xml.js';
import { ANNOUNCER_DEFAULTS } from '../src/xmpp/announcer.js';
import { startNodeProcess } from '../dev-tools/node-process.js';
import { nextStanza, startProsody, type Client, type Element, type Prosody } from '../dev-tools/prosody.js';
import { readStoreContents } from '../src/core/store-reader.js';
import { sampleIncident } from '../dev-tools/peers.js';
import { benchScale } from './scale.js';
import { botConfigJson, observeRoom } from '../dev-tools/room.js';

const execFileP = promisify(execFile);
const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'bench-pw';
const WINDOW = 64;

export interface BenchSizes {
  /** IQs per ingest repetition. */
  ingest: number;
  /** Reports per latency burst. */
  latency: number;
  /** Store sizes for the add+commit figure (first is the reference, last is compared with it). */
  store: number[];
  /** Timed single add+commit per store size. */
  commits: number;
  /** Iterations per codec repetition. */
  codec: number;
  /** Repetitions (median taken). */
  reps: number;
  /** Scale (issue 13): the reference store size and the large one (`--scale=N`, default 1,000,000). */
  scale: number[];
  /** Reports in the flood sent at each scale size. */
  flood: number;
  /**
   * Wait before each latency burst so the room is quiet again (the announcer gives a storm that goes on one summary
   * every few seconds; a burst is measured from a quiet room, as an attack starts).
   */
  quietMs: number;
}

export type BenchSection = 'live' | 'store' | 'codec' | 'scale';

const QUIET_MS = ANNOUNCER_DEFAULTS.quietMs + 500;
export const FULL: BenchSizes = {
  ingest: 2000,
  latency: 1000,
  store: [1_000, 10_000, 100_000],
  commits: 20,
  codec: 5000,
  reps: 5,
  scale: [10_000, 1_000_000],
  flood: 3000,
  quietMs: QUIET_MS,
};
export const QUICK: BenchSizes = { ingest: 200, latency: 100, store: [1_000, 10_000], commits: 20, codec: 2000, reps: 3, scale: [1_000, 20_000], flood: 1000, quietMs: QUIET_MS };

export interface Row {
  section: 'Ingest' | 'Latency' | 'Store' | 'Codec' | 'Scale';
  figure: string;
  bot: number;
  baseline: number;
  unit: string;
  /** Shown as is ("98 %", "3.1×"); empty when not meaningful. */
  ratio: string;
  target: string;
  met: boolean | undefined;
}

export interface BenchResult {
  rows: Row[];
  table: string;
  notes: string[];
}

export interface BenchOptions {
  quick?: boolean;
  /** Sections to run; all when absent. */
  only?: BenchSection[];
  sizes?: Partial<BenchSizes>;
  /** Progress lines (stderr by default). */
  progress?: (line: string) => void;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
const times = (x: number) => `${x.toFixed(2)}×`;

// ---------------------------------------------------------------------------------------------------------------
// XMPP part: ingest and latency

interface Live {
  prosody: Prosody;
  /** The bot, run as an operator runs it: `src/main.ts --config FILE`, in its own process. */
  bot: ChildProcess;
  storePath: string;
  botJid: string;
  echoJid: string;
  peer: Client;
  /** The bare echo bot (echo@home/bot), in its own process too (bench/echo-bot.ts). */
  echo: ChildProcess;
  room: string;
  /** Tells the echo bot whether to also say the incident id in the room (the latency baseline). */
  echoSays(on: boolean): Promise<void>;
}

/** Starts a child (node + tsx) and resolves once a stdout line satisfies `ready`. */
async function spawnReady(args: string[], ready: (line: string) => boolean, what: string): Promise<ChildProcess> {
  // BENCH_CPU_PROF=DIR writes a CPU profile of each child there (what the bot spends its time on, away from the bench).
  const nodeArgs = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const started = await startNodeProcess(args, {
    ready: (stdout) => stdout.split('\n').some(ready),
    what,
    timeoutMs: 60_000,
    env: { ...process.env, LOG_FORMAT: 'json' },
    nodeArgs,
  });
  return started.child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
}

async function startLive(): Promise<Live> {
  const prosody = await startProsody({ hosts: [HOME, PEER] });
  try {
    for (const [user, host] of [
      ['incidents', HOME],
      ['echo', HOME],
      ['alice', HOME],
      ['incidents', PEER],
    ] as const) {
      await prosody.register(user, host, PASSWORD);
    }
    const room = `operators@${prosody.mucOf(HOME)}`;
    const dir = await mkdtemp(join(tmpdir(), 'incident-bench-bot-'));
    const storePath = join(dir, 'incidents.json');
    const configFile = join(dir, 'bot.config.json');
    const config = {
      ...botConfigJson({
        service: prosody.service,
        domain: HOME,
        username: 'incidents',
        password: PASSWORD,
        storagePath: storePath,
        defaultRoom: room,
        peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
      }),
      limits: { reportsPerMinute: 1e9, burst: 1e9 },
    };
    parseConfig(config); // fail here, not in the child, if the bench builds a bad config
    await writeFile(configFile, JSON.stringify(config));
    const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const bot = await spawnReady([mainTs, '--config', configFile], (l) => l.includes('"bot started"'), 'the bot');
    const echoTs = fileURLToPath(new URL('./echo-bot.ts', import.meta.url));
    let echo: ChildProcess;
    try {
      echo = await spawnReady([echoTs, prosody.service, HOME, 'echo', PASSWORD, room], (l) => l === 'ready', 'the echo bot');
    } catch (err) {
      await stopChild(bot);
      throw err;
    }
    const peer = await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' });
    const echoJid = `echo@${HOME}/bot`;
    const echoSays = async (on: boolean) => {
      const answered = nextStanza(peer, (el) => el.is('message') && el.attrs.from === echoJid && el.getChildText('body') === 'ok', 10_000);
      await peer.send(xml('message', { to: echoJid, type: 'chat' }, xml('body', {}, on ? 'say on' : 'say off')));
      await answered;
    };
    return { prosody, bot, storePath, botJid: `incidents@${HOME}/bot`, echoJid, peer, echo, room, echoSays };
  } catch (err) {
    await prosody.stop();
    throw err;
  }
}

/** Sends every payload as an IQ set to `to`, at most WINDOW outstanding; calls onSend just before each. */
async function sendWindowed(client: Client, to: string, payloads: Element[], onSend?: (i: number) => void): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < payloads.length) {
      const i = next++;
      onSend?.(i);
      await client.iqCaller.request(xml('iq', { type: 'set', to }, payloads[i]!), 30_000);
    }
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW, payloads.length) }, worker));
  return performance.now() - t0;
}

const reports = (n: number) => Array.from({ length: n }, () => sampleIncident(PEER));

async function benchIngest(live: Live, sizes: BenchSizes, progress: (s: string) => void): Promise<Row[]> {
  const botRates: number[] = [];
  const echoRates: number[] = [];
  // Warm-up (JIT, stream buffers) on both, not counted.
  const warm = reports(Math.min(100, sizes.ingest)).map((i) => encodeIodef('report', i));
  await sendWindowed(live.peer, live.echoJid, warm);
  await sendWindowed(live.peer, live.botJid, warm);
  const botCpu: number[] = [];
  const echoCpu: number[] = [];
  for (let r = 0; r < sizes.reps; r++) {
    const payloads = reports(sizes.ingest).map((i) => encodeIodef('report', i));
    // Alternate the order so neither side always runs second.
    const order = r % 2 === 0 ? (['echo', 'bot'] as const) : (['bot', 'echo'] as const);
    for (const who of order) {
      const child = who === 'bot' ? live.bot : live.echo;
      const cpu0 = await processCpuMs(child.pid);
      const ms = await sendWindowed(live.peer, who === 'bot' ? live.botJid : live.echoJid, payloads);
      // The bot's work after the last acknowledgement (announcements, index pass) belongs to these reports too.
      if (who === 'bot') await sleep(300);
      const cpu = ((await processCpuMs(child.pid)) - cpu0) / sizes.ingest;
      (who === 'bot' ? botRates : echoRates).push((sizes.ingest / ms) * 1000);
      (who === 'bot' ? botCpu : echoCpu).push(cpu);
    }
    progress(
      `ingest rep ${r + 1}: bot ${botRates.at(-1)!.toFixed(0)}/s, echo ${echoRates.at(-1)!.toFixed(0)}/s (ratio ${pct(botRates.at(-1)! / echoRates.at(-1)!)}); ` +
        `CPU per report: bot ${botCpu.at(-1)!.toFixed(3)} ms, echo ${echoCpu.at(-1)!.toFixed(3)} ms`,
    );
    await sleep(300);
  }
  const bot = median(botRates);
  const base = median(echoRates);
  const cpuBot = median(botCpu);
  const cpuEcho = median(echoCpu);
  progress(`ingest: ratio ${pct(bot / base)} (bot ${bot.toFixed(0)}/s, echo ${base.toFixed(0)}/s); CPU per report bot ${cpuBot.toFixed(3)} ms, echo ${cpuEcho.toFixed(3)} ms (${times(cpuBot / cpuEcho)})`);
  return [
    {
      section: 'Ingest',
      figure: `1. Ingest: process CPU per report (user+system, all threads; N=${sizes.ingest})`,
      bot: cpuBot,
      baseline: cpuEcho,
      unit: 'ms',
      ratio: times(cpuBot / cpuEcho),
      target: '',
      met: undefined,
    },
    {
      section: 'Ingest',
      figure: `1. Ingest: report IQs acked/s (N=${sizes.ingest}, window ${WINDOW})`,
      bot,
      baseline: base,
      unit: '/s',
      ratio: pct(bot / base),
      target: '≥ 90 % of echo bot',
      met: bot / base >= 0.9,
    },
  ];
}

/**
 * CPU time (every thread: main, GC, libuv pool) a child process has used so far, in ms: the sum of its threads'
 * on-CPU nanoseconds in /proc/PID/task/TID/schedstat (Linux; finer than the 10 ms ticks of /proc/PID/stat, so a
 * small run still measures). Node's threads live as long as the process, so none drops out between two readings.
 */
async function processCpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  let ns = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    try {
      ns += Number((await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')).split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e6;
}

/** Every `#N` a room line names, expanding "#a–#b" ranges. */
function numbersIn(body: string): number[] {
  const out: number[] = [];
  for (const m of body.matchAll(/#(\d+)(?:\s*[–-]\s*#(\d+))?/g)) {
    const a = Number(m[1]);
    const b = m[2] ? Number(m[2]) : a;
    for (let n = a; n <= b && n - a < 1e6; n++) out.push(n);
  }
  return out;
}

async function benchLatency(live: Live, sizes: BenchSizes, progress: (s: string) => void): Promise<Row[]> {
  const alice = await live.prosody.client({ username: 'alice', host: HOME, password: PASSWORD });
  const observer = await observeRoom(alice, live.room, 'alice');
  await observer.waitForOccupant('incident-bot');
  const seenNumber = new Map<number, number>();
  /** When each bot line arrived: the progress line says how many a burst took and the longest gap. */
  const botLines: number[] = [];
  const seenId = new Map<string, number>();
  alice.on('stanza', (el: Element) => {
    if (!el.is('message') || el.attrs.type !== 'groupchat' || el.getChild('delay', 'urn:xmpp:delay')) return;
    const from = String(el.attrs.from ?? '');
    const body = el.getChildText('body');
    if (body === null) return;
    const now = performance.now();
    if (from === `${live.room}/incident-bot`) {
      botLines.push(now);
      for (const n of numbersIn(body)) if (!seenNumber.has(n)) seenNumber.set(n, now);
    } else if (body.startsWith('echo ')) {
      const id = body.slice(5);
      if (!seenId.has(id)) seenId.set(id, now);
    }
  });

  const waitAll = async (check: () => boolean, what: string, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`latency: timed out waiting for ${what}`);
      await sleep(5);
    }
  };

  const botP: { p50: number[]; p95: number[]; p99: number[] } = { p50: [], p95: [], p99: [] };
  const echoP: { p50: number[]; p95: number[]; p99: number[] } = { p50: [], p95: [], p99: [] };
  const record = (into: typeof botP, lat: number[]) => {
    into.p50.push(percentile(lat, 50));
    into.p95.push(percentile(lat, 95));
    into.p99.push(percentile(lat, 99));
  };

  // The echo bot joins the same room (nick 'echo') for the baseline; it only speaks there while echoSays.on.
  await observer.waitForOccupant('echo');

  const singleBot: number[] = [];
  const singleEcho: number[] = [];
  for (let r = 0; r < sizes.reps; r++) {
    // One report in a quiet room, to each: what an operator waits for outside a storm.
    {
      await sleep(sizes.quietMs);
      const inc = reports(1)[0]!;
      const seenBefore = seenNumber.size;
      const t0 = performance.now();
      await sendWindowed(live.peer, live.botJid, [encodeIodef('report', inc)]);
      await waitAll(() => seenNumber.size > seenBefore, 'the single announcement');
      singleBot.push(Math.max(...[...seenNumber.values()].slice(seenBefore)) - t0);
      const echoInc = reports(1)[0]!;
      await live.echoSays(true);
      const t1 = performance.now();
      await sendWindowed(live.peer, live.echoJid, [encodeIodef('report', echoInc)]);
      await waitAll(() => seenId.has(echoInc.id), 'the single echo line');
      singleEcho.push(seenId.get(echoInc.id)! - t1);
      await live.echoSays(false);
      botLines.length = 0;
    }
    // Bot: reports → announcements (possibly folded by storm grouping).
    {
      const incs = reports(sizes.latency);
      const payloads = incs.map((i) => encodeIodef('report', i));
      const sentAt: number[] = [];
      await sleep(sizes.quietMs); // a quiet room: the previous burst's storm is over
      const seenBefore = seenNumber.size;
      await sendWindowed(live.peer, live.botJid, payloads, (i) => (sentAt[i] = performance.now()));
      // Every burst's incidents are new, so N new numbers in the room means all were announced. Only then is the
      // bot's store read (another process's: read-only, as a backup would): reading it parses every incident, and
      // doing it while lines still arrive would delay this process's timestamps of them.
      await waitAll(() => seenNumber.size >= seenBefore + incs.length, 'every announcement');
      const numberOf = new Map((await readStoreContents(live.storePath)).incidents.map((s) => [s.key, s.number]));
      const numbers = incs.map((i) => {
        const n = numberOf.get(incidentKey(i));
        if (n === undefined) throw new Error(`latency: incident ${i.id} acknowledged but not in the store`);
        if (!seenNumber.has(n)) throw new Error(`latency: #${n} was never announced`);
        return n;
      });
      record(botP, numbers.map((n, i) => seenNumber.get(n)! - sentAt[i]!));
    }
    // Baseline: a bare client that says the id in the room as it acknowledges.
    {
      const incs = reports(sizes.latency);
      const payloads = incs.map((i) => encodeIodef('report', i));
      const sentAt: number[] = [];
      await live.echoSays(true);
      await sendWindowed(live.peer, live.echoJid, payloads, (i) => (sentAt[i] = performance.now()));
      await waitAll(() => incs.every((i) => seenId.has(i.id)), 'every echo line');
      await live.echoSays(false);
      record(echoP, incs.map((inc, i) => seenId.get(inc.id)! - sentAt[i]!));
    }
    const gaps = botLines.slice(1).map((t, i) => t - botLines[i]!);
    progress(
      `latency rep ${r + 1}: bot p99 ${botP.p99.at(-1)!.toFixed(0)} ms in ${botLines.length} room lines (longest gap ${Math.max(0, ...gaps).toFixed(0)} ms), echo p99 ${echoP.p99.at(-1)!.toFixed(0)} ms`,
    );
    botLines.length = 0;
  }
  const rows: Row[] = [];
  progress(`latency single report: bot ${singleBot.map((x) => x.toFixed(0)).join(', ')} ms; echo ${singleEcho.map((x) => x.toFixed(0)).join(', ')} ms`);
  rows.push({
    section: 'Latency',
    figure: `2. Latency: one report in a quiet room → room line p50 (${sizes.reps} reports)`,
    bot: median(singleBot),
    baseline: median(singleEcho),
    unit: 'ms',
    ratio: times(median(singleBot) / median(singleEcho)),
    target: '≤ 2× echo',
    met: median(singleBot) <= 2 * median(singleEcho),
  });
  for (const p of ['p50', 'p95', 'p99'] as const) {
    const bot = median(botP[p]);
    const base = median(echoP[p]);
    rows.push({
      section: 'Latency',
      figure: `2. Latency: report → room line ${p} (burst ${sizes.latency})`,
      bot,
      baseline: base,
      unit: 'ms',
      ratio: times(bot / base),
      target: p === 'p99' ? '≤ 250 ms' : '',
      met: p === 'p99' ? bot <= 250 : undefined,
    });
  }
  return rows;
}


// ---------------------------------------------------------------------------------------------------------------
// Store growth and start-up

async function buildStore(path: string, n: number): Promise<IncidentStore> {
  const store = await IncidentStore.open(path);
  const from = `incidents@${PEER}/bot`;
  for (let i = 0; i < n; i++) {
    receiveReport(store, { incident: sampleIncident(PEER), from, format: 'iodef', kind: 'report', trusted: true });
    // Batches of 1,000, like a flood's group commits: one giant first batch would measure something else.
    if (i % 1000 === 999) await store.commit();
  }
  await store.commit();
  return store;
}

/** Median add+commit time for `k` single reports, and the median of the durable write (one LMDB transaction) alone. */
async function timeCommits(store: IncidentStore, k: number): Promise<{ commit: number; sync: number }> {
  const from = `incidents@${PEER}/bot`;
  const commit: number[] = [];
  const sync: number[] = [];
  const db = (store as unknown as { db: { write: (...a: unknown[]) => Promise<unknown> } }).db;
  const write = db.write.bind(db);
  db.write = async (...a: unknown[]) => {
    const t = performance.now();
    try {
      return await write(...a);
    } finally {
      sync.push(performance.now() - t);
    }
  };
  for (let i = 0; i < k; i++) {
    const t0 = performance.now();
    receiveReport(store, { incident: sampleIncident(PEER), from, format: 'iodef', kind: 'report', trusted: true });
    await store.commit();
    commit.push(performance.now() - t0);
  }
  db.write = write;
  return { commit: median(commit), sync: median(sync) };
}

async function storeBytes(path: string): Promise<{ manifest: number; database: number }> {
  return { manifest: (await stat(path)).size, database: (await stat(path.replace(/\.json$/, '.mdb'))).size };
}

async function child(path: string): Promise<{ ms: number; rssBefore: number; rssAfter: number; size: number }> {
  const script = fileURLToPath(new URL('./open-store.ts', import.meta.url));
  const { stdout } = await execFileP(process.execPath, ['--import', 'tsx', script, path], {
    maxBuffer: 1 << 20,
    timeout: 120_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { ms: number; rssBefore: number; rssAfter: number; size: number };
}

async function benchStore(sizes: BenchSizes, progress: (s: string) => void): Promise<{ rows: Row[]; notes: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'incident-bench-store-'));
  const notes: string[] = [];
  try {
    const results: Array<{ n: number; commit: number; sync: number }> = [];
    let largest = '';
    let smallest = '';
    for (const n of sizes.store) {
      await mkdir(join(dir, `store-${n}`));
      const path = join(dir, `store-${n}`, 'incidents.json');
      const tb = performance.now();
      const store = await buildStore(path, n);
      const built = performance.now() - tb;
      const { commit, sync } = await timeCommits(store, sizes.commits);
      await store.close();
      const bytes = await storeBytes(path);
      results.push({ n, commit, sync });
      progress(`store ${n}: built in ${(built / 1000).toFixed(1)} s, database ${(bytes.database / 1e6).toFixed(1)} MB, add+commit ${commit.toFixed(2)} ms (durable write ${sync.toFixed(2)} ms)`);
      notes.push(
        `store ${n}: database ${(bytes.database / 1e6).toFixed(1)} MB; add+commit median ${commit.toFixed(2)} ms, of which the durable write (one LMDB transaction, synchronous commit) ${sync.toFixed(2)} ms (${pct(sync / commit)})`,
      );
      if (!smallest) smallest = path;
      else if (largest && largest !== smallest) await rm(dirname(largest), { recursive: true, force: true });
      largest = path;
    }
    const first = results[0]!;
    const rows: Row[] = [];
    for (const r of results.slice(1)) {
      const factor = r.commit / first.commit;
      const isLast = r === results.at(-1);
      rows.push({
        section: 'Store',
        figure: `3. Store: one add+commit at ${r.n.toLocaleString('en')} vs ${first.n.toLocaleString('en')} incidents`,
        bot: r.commit,
        baseline: first.commit,
        unit: 'ms',
        ratio: times(factor),
        target: isLast ? '≤ 2×' : '',
        met: isLast ? factor <= 2 : undefined,
      });
    }
    // Opening in a fresh process: the largest store against the smallest (the cost must not grow with the store).
    const opens = async (path: string) => {
      const runs: Array<Awaited<ReturnType<typeof child>>> = [];
      for (let k = 0; k < 3; k++) runs.push(await child(path));
      return { ms: median(runs.map((o) => o.ms)), last: runs.at(-1)! };
    };
    const big = await opens(largest);
    const ref = await opens(smallest);
    progress(`open: ${big.ms.toFixed(0)} ms at ${big.last.size} vs ${ref.ms.toFixed(0)} ms at ${ref.last.size}; RSS ${(big.last.rssAfter / 1e6).toFixed(0)} MB`);
    const nStored = big.last.size.toLocaleString('en');
    rows.push({
      section: 'Store',
      figure: `3. Store: IncidentStore.open, fresh process, ${nStored} vs ${ref.last.size.toLocaleString('en')} incidents`,
      bot: big.ms,
      baseline: ref.ms,
      unit: 'ms',
      ratio: times(big.ms / ref.ms),
      target: '≤ 2 s',
      met: big.ms <= 2000,
    });
    rows.push({
      section: 'Store',
      figure: `3. Store: RSS after open (${nStored} incidents; baseline = same process before open)`,
      bot: big.last.rssAfter / 1e6,
      baseline: big.last.rssBefore / 1e6,
      unit: 'MB',
      ratio: times(big.last.rssAfter / big.last.rssBefore),
      target: '≤ 250 MB',
      met: big.last.rssAfter / 1e6 <= 250,
    });
    return { rows, notes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Codec

async function benchCodec(sizes: BenchSizes, progress: (s: string) => void): Promise<Row[]> {
  const text = await readFile(fileURLToPath(new URL('../test/fixtures/iodef/v0.6-report.xml', import.meta.url)), 'utf8');
  const check = parseXml(text);
  if (!check.ok) throw new Error(`codec: fixture does not parse: ${check.error.message}`);
  const payload0 = findIodefPayload(check.value);
  const decoded0 = payload0 && decodeIodef(payload0);
  if (!decoded0?.ok) throw new Error('codec: fixture does not decode');
  const incident = decoded0.value.incident;
  const tree = check.value;

  const rate = (fn: () => unknown) => {
    const t0 = performance.now();
    for (let i = 0; i < sizes.codec; i++) fn();
    return (sizes.codec / (performance.now() - t0)) * 1000;
  };
  const decode = () => {
    const p = parseXml(text);
    if (!p.ok) throw new Error('parse');
    const d = decodeIodef(findIodefPayload(p.value)!);
    if (!d.ok) throw new Error('decode');
    return d;
  };
  const raw = () => parse(text);
  const encode = () => encodeIodef('report', incident).toString();
  const serialise = () => tree.toString();
  // Warm-up.
  for (const fn of [decode, raw, encode, serialise]) for (let i = 0; i < Math.min(500, sizes.codec); i++) fn();
  const r = { decode: [] as number[], raw: [] as number[], encode: [] as number[], serialise: [] as number[] };
  for (let k = 0; k < sizes.reps; k++) {
    r.raw.push(rate(raw));
    r.decode.push(rate(decode));
    r.serialise.push(rate(serialise));
    r.encode.push(rate(encode));
  }
  const d = median(r.decode);
  const p = median(r.raw);
  const e = median(r.encode);
  const s = median(r.serialise);
  progress(`codec: decode+validate ${d.toFixed(0)}/s, raw parse ${p.toFixed(0)}/s, encode ${e.toFixed(0)}/s, raw serialise ${s.toFixed(0)}/s`);
  return [
    {
      section: 'Codec',
      figure: `4. Codec: parseXml+decodeIodef /s vs raw ltx parse (v0.6-report.xml, ${text.length} B)`,
      bot: d,
      baseline: p,
      unit: '/s',
      ratio: pct(d / p),
      target: '≥ 50 % of raw parse',
      met: d / p >= 0.5,
    },
    {
      section: 'Codec',
      figure: '4. Codec: encodeIodef+toString /s vs raw serialise of the parsed fixture',
      bot: e,
      baseline: s,
      unit: '/s',
      ratio: pct(e / s),
      target: '',
      met: undefined,
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------

function fmt(x: number, unit: string): string {
  const digits = x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return `${x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
}

export function renderTable(rows: Row[]): string {
  const lines = ['| figure | bot | baseline | ratio | target | met? |', '| --- | ---: | ---: | ---: | --- | --- |'];
  for (const r of rows) {
    const met = r.met === undefined ? '—' : r.met ? 'yes' : '**no**';
    lines.push(`| ${r.figure} | ${fmt(r.bot, r.unit)} | ${fmt(r.baseline, r.unit)} | ${r.ratio} | ${r.target || '—'} | ${met} |`);
  }
  return lines.join('\n');
}

export async function runBenchmarks(opts: BenchOptions = {}): Promise<BenchResult> {
  const sizes: BenchSizes = { ...(opts.quick ? QUICK : FULL), ...opts.sizes };
  const progress = opts.progress ?? ((s: string) => process.stderr.write(`${s}\n`));
  const rows: Row[] = [];
  const notes: string[] = [];

  const wanted = (section: BenchSection) => !opts.only || opts.only.includes(section);

  if (wanted('live')) {
    const live = await startLive();
    try {
      rows.push(...(await benchIngest(live, sizes, progress)));
      rows.push(...(await benchLatency(live, sizes, progress)));
    } finally {
      await stopChild(live.bot);
      await stopChild(live.echo);
      await live.prosody.stop();
      await rm(dirname(live.storePath), { recursive: true, force: true });
    }
  }
  if (wanted('store')) {
    const store = await benchStore(sizes, progress);
    rows.push(...store.rows);
    notes.push(...store.notes);
  }
  if (wanted('codec')) rows.push(...(await benchCodec(sizes, progress)));
  if (wanted('scale')) {
    for (const r of await benchScale(sizes.scale, sizes.flood, progress)) {
      rows.push({ section: 'Scale', figure: `5. Scale: ${r.figure}`, bot: r.bot, baseline: r.baseline, unit: r.unit, ratio: times(r.bot / r.baseline), target: r.target, met: r.met });
    }
  }
  return { rows, table: renderTable(rows), notes };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  // --only=live,store,codec,scale runs some sections (live = ingest and latency, which share one Prosody and bot).
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',') as BenchSection[] | undefined;
  // --scale=N: the large store of the scale section (default 1,000,000; built once and cached under $TMPDIR).
  const scaleArg = process.argv.find((a) => a.startsWith('--scale='))?.slice(8);
  const scale = scaleArg ? Number(scaleArg.replace(/_/g, '')) : undefined;
  if (scale !== undefined && !(Number.isInteger(scale) && scale > 0)) throw new Error(`--scale wants a number of incidents, not '${scaleArg}'`);
  const base = quick ? QUICK : FULL;
  const sizes = scale ? { scale: [Math.min(base.scale[0]!, scale), scale] } : {};
  const result = await runBenchmarks({ quick, ...(only ? { only } : {}), sizes });
  console.log(result.table);
  console.log('');
  for (const n of result.notes) console.log(`- ${n}`);
  const out = process.argv.find((a) => a.startsWith('--json='));
  if (out) await writeFile(out.slice(7), JSON.stringify(result, null, 2));
}

if (process.argv[1]?.endsWith('bench/run.ts')) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
