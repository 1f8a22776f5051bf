/**
 * Issue 13, target 3 — a million incidents: the bot run as an operator runs it (`src/main.ts --config FILE`) on a
 * store of N incidents, against the same measurements on a reference store of a few thousand in the same run:
 * start-up, RSS, every command sent as a direct message by an admin, and a flood of reports.
 *
 * The stores are built once through the workflow (receiveReport, commits of 1,000) and cached under
 * `$TMPDIR/incident-bench-cache/` (keyed by size and store format); each run works on a copy.
 */
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import xml from '@xmpp/xml';
import { parseConfig } from '../src/core/config.js';
import { STORE_FORMAT } from '../src/core/store-build.js';
import { INDEX_VERSION } from '../src/core/store-index.js';
import { IncidentStore } from '../src/core/store.js';
import { receiveReport } from '../src/core/workflow.js';
import { emptyIncident, type Incident, type Severity } from '../src/protocol/incident.js';
import { encodeIodef } from '../src/protocol/iodef.js';
import { startNodeProcess } from '../dev-tools/node-process.js';
import { sampleIncident } from '../dev-tools/peers.js';
import { nextStanza, startProsody, type Client, type Prosody } from '../dev-tools/prosody.js';
import { botConfigJson } from '../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'bench-pw';
/** Bump when the generated data changes: cached stores of another build are rebuilt. */
const DATA_VERSION = 1;

export interface ScaleRow {
  figure: string;
  bot: number;
  baseline: number;
  unit: string;
  target: string;
  met: boolean | undefined;
}

/** What the commands look up: values of one incident in the middle of the store. */
interface Probes {
  size: number;
  number: number;
  idPrefix: string;
  ip: string;
  jid: string;
  domain: string;
  rareWord: string;
}

// ---- building ----------------------------------------------------------------------------------------------

/** A small deterministic generator (mulberry32), so every cached store of one size holds the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['flood', 'spam', 'registration', 'presence', 'muc', 'botnet', 'abuse', 'bruteforce', 'harassment', 'phishing', 'dos', 'invites'];

function generated(i: number, random: () => number): { incident: Incident; from: string; rare: string } {
  const pick = (n: number) => Math.floor(random() * n);
  const peer = `peer${pick(20)}.example`;
  const abuser = `user${pick(200_000)}@abuse${pick(1000)}.example`;
  const ip = `10.${pick(256)}.${pick(256)}.${pick(256)}`;
  const rare = `w${i.toString(36)}`;
  const words = Array.from({ length: 6 + pick(8) }, () => WORDS[pick(WORDS.length)]!);
  const incident: Incident = {
    ...emptyIncident(randomUUID()),
    site: peer,
    admins: [`admin@${peer}`],
    category: ['muc', 's2s', 'c2s'][pick(3)]!,
    types: [words[0]!],
    severity: (1 + pick(5)) as Severity,
    sources: [{ addresses: [{ kind: 'jid', value: abuser }, { kind: 'ip', value: ip, version: 4 }], counters: [], roles: [] }],
    texts: [{ lang: 'en', text: `${words.join(' ')} from ${abuser} (${rare})` }],
    times: { begin: '2026-11-27T10:00:00Z', report: '2026-11-27T10:05:00Z' },
  };
  return { incident, from: `incidents@${peer}/bot`, rare };
}

async function buildScaleStore(dir: string, n: number, progress: (s: string) => void): Promise<Probes> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const store = await IncidentStore.open(join(dir, 'incidents.json'));
  const random = rng(n);
  const middle = Math.floor(n / 2);
  let probes: Probes | undefined;
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i++) {
      const g = generated(i, random);
      const { stored } = receiveReport(store, { incident: g.incident, from: g.from, format: 'iodef', kind: 'report', trusted: random() < 0.9 });
      const r = random();
      if (r < 0.2 || r > 0.9) {
        stored.state = r < 0.2 ? 'acked' : 'resolved';
        store.save(stored);
      }
      if (i === middle) {
        const jid = g.incident.sources[0]!.addresses[0]!.value;
        probes = {
          size: n,
          number: stored.number,
          idPrefix: g.incident.id.slice(0, 8),
          ip: g.incident.sources[0]!.addresses[1]!.value,
          jid,
          domain: jid.slice(jid.indexOf('@') + 1),
          rareWord: g.rare,
        };
      }
      if (i % 1000 === 999) await store.commit();
      if (i % 100_000 === 99_999) progress(`scale: built ${i + 1} of ${n} incidents in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    await store.commit();
  } finally {
    await store.close();
  }
  await writeFile(join(dir, 'probes.json'), JSON.stringify(probes));
  return probes!;
}

/** The cached store of `n` incidents (built on first use), copied into `into` for one run. */
async function scaleStore(n: number, into: string, progress: (s: string) => void): Promise<Probes> {
  const cache = join(tmpdir(), 'incident-bench-cache', `scale-${n}-f${STORE_FORMAT}-i${INDEX_VERSION}-d${DATA_VERSION}`);
  let probes: Probes;
  if (existsSync(join(cache, 'probes.json'))) {
    probes = JSON.parse(await readFile(join(cache, 'probes.json'), 'utf8')) as Probes;
    progress(`scale: using the cached store of ${n} incidents (${cache})`);
  } else {
    const t = performance.now();
    probes = await buildScaleStore(cache, n, progress);
    progress(`scale: built the store of ${n} incidents in ${((performance.now() - t) / 1000).toFixed(0)} s (cached in ${cache})`);
  }
  await copyFile(join(cache, 'incidents.json'), join(into, 'incidents.json'));
  await copyFile(join(cache, 'incidents.mdb'), join(into, 'incidents.mdb'));
  // On disk before the bot starts: otherwise its first commit's fsync writes out the whole fresh copy (a second
  // at a million incidents), which no operator's store would make it do.
  const copy = await open(join(into, 'incidents.mdb'), 'r+');
  await copy.datasync();
  await copy.close();
  return probes;
}

// ---- measuring ---------------------------------------------------------------------------------------------

interface Measured {
  startMs: number;
  rssAfterStartMb: number;
  commands: Map<string, number>;
  rssAfterCommandsMb: number;
  rssAfterFloodMb: number;
  floodP99: number;
  floodMax: number;
}

const rssMb = async (pid: number) => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(prosody: Prosody, n: number, floodSize: number, progress: (s: string) => void): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'incident-bench-scale-'));
  let bot: ChildProcess | undefined;
  const clients: Client[] = [];
  try {
    const probes = await scaleStore(n, dir, progress);
    const config = {
      ...botConfigJson({
        service: prosody.service,
        domain: HOME,
        username: 'incidents',
        password: PASSWORD,
        storagePath: join(dir, 'incidents.json'),
        defaultRoom: `ops@${prosody.mucOf(HOME)}`,
        admins: [`admin@${HOME}`],
        peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
      }),
      limits: { reportsPerMinute: 1e9, burst: 1e9 },
    };
    parseConfig(config);
    await writeFile(join(dir, 'bot.config.json'), JSON.stringify(config));
    const t0 = performance.now();
    const started = await startNodeProcess([fileURLToPath(new URL('../src/main.ts', import.meta.url)), '--config', join(dir, 'bot.config.json')], {
      ready: (out) => out.includes('"bot started"'),
      what: 'the bot',
      timeoutMs: 120_000,
      env: { ...process.env, LOG_FORMAT: 'json' },
    });
    const startMs = performance.now() - t0;
    bot = started.child;
    const pid = bot.pid!;
    const rssAfterStartMb = await rssMb(pid);

    const admin = await prosody.client({ username: 'admin', host: HOME, password: PASSWORD });
    clients.push(admin);
    const botJid = `incidents@${HOME}/bot`;
    const ask = async (text: string) => {
      const reply = nextStanza(admin, (el) => el.is('message') && String(el.attrs.from ?? '').startsWith(`incidents@${HOME}`) && el.getChildText('body') !== null, 30_000);
      const t = performance.now();
      await admin.send(xml('message', { to: botJid, type: 'chat' }, xml('body', {}, text)));
      const body = (await reply).getChildText('body') ?? '';
      const ms = performance.now() - t;
      // A long answer comes as several messages (20 lines each): let the rest arrive, untimed, so that they are
      // not taken for the answer to the next command.
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { ms, body };
    };
    const commands = new Map<string, number>();
    const asked: Array<[string, string]> = [
      ['list', 'list'],
      ['list all', 'list all'],
      ['show #N', `show #${probes.number}`],
      ['show <uuid prefix>', `show ${probes.idPrefix}`],
      ['search <ip>', `search ${probes.ip}`],
      ['search <jid>', `search ${probes.jid}`],
      ['search <domain>', `search ${probes.domain}`],
      ['search <common word>', 'search flood'],
      ['search <rare word>', `search ${probes.rareWord}`],
      ['stats', 'stats'],
      ['export #N', `export #${probes.number}`],
    ];
    let rssAfterCommandsMb = rssAfterStartMb;
    for (const [label, text] of asked) {
      const times: number[] = [];
      for (let k = 0; k < 3; k++) {
        const { ms, body } = await ask(text);
        if (/^Sorry|Usage:|Unknown command/.test(body)) throw new Error(`scale: '${text}' was answered: ${body.slice(0, 200)}`);
        if (label.startsWith('search') && !body.startsWith('#')) throw new Error(`scale: '${text}' found nothing: ${body.slice(0, 200)}`);
        times.push(ms);
        rssAfterCommandsMb = Math.max(rssAfterCommandsMb, await rssMb(pid));
      }
      commands.set(label, median(times));
    }

    // A flood of reports: how long each acknowledgement takes while the store is this big.
    const peer = await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' });
    clients.push(peer);
    const payloads = Array.from({ length: floodSize }, () => encodeIodef('report', sampleIncident(PEER)));
    const latencies: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < payloads.length) {
          const p = payloads[next++]!;
          const t = performance.now();
          await peer.iqCaller.request(xml('iq', { type: 'set', to: botJid }, p), 30_000);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const rssAfterFloodMb = await rssMb(pid);
    const sorted = [...latencies].sort((a, b) => a - b);
    const floodP99 = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
    const floodMax = sorted.at(-1)!;
    progress(
      `scale ${n}: start ${startMs.toFixed(0)} ms, RSS ${rssAfterStartMb.toFixed(0)}/${rssAfterCommandsMb.toFixed(0)}/${rssAfterFloodMb.toFixed(0)} MB (start/commands/flood), ` +
        `${[...commands].map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}; flood ${floodSize}: ack p99 ${floodP99.toFixed(0)} ms, max ${floodMax.toFixed(0)} ms`,
    );
    return { startMs, rssAfterStartMb, commands, rssAfterCommandsMb, rssAfterFloodMb, floodP99, floodMax };
  } finally {
    for (const c of clients) await c.stop().catch(() => undefined);
    if (bot && bot.exitCode === null) {
      const exited = new Promise((resolve) => bot!.once('exit', resolve));
      bot.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000)).then(() => bot!.kill('SIGKILL'))]);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** Measures the store of `sizes[1]` incidents against the reference of `sizes[0]`, in one Prosody. */
export async function benchScale(sizes: readonly number[], floodSize: number, progress: (s: string) => void): Promise<ScaleRow[]> {
  const [small, large] = [sizes[0]!, sizes.at(-1)!];
  const prosody = await startProsody({ hosts: [HOME, PEER] });
  try {
    for (const [user, host] of [
      ['incidents', HOME],
      ['admin', HOME],
      ['incidents', PEER],
    ] as const) {
      await prosody.register(user, host, PASSWORD);
    }
    const ref = await measure(prosody, small, floodSize, progress);
    const big = await measure(prosody, large, floodSize, progress);
    const at = (what: string) => `${what} at ${large.toLocaleString('en')} vs ${small.toLocaleString('en')} incidents`;
    const rows: ScaleRow[] = [
      { figure: at('start-up (spawn → "bot started")'), bot: big.startMs, baseline: ref.startMs, unit: 'ms', target: '≤ 2 s', met: big.startMs <= 2000 },
      { figure: at('RSS after start'), bot: big.rssAfterStartMb, baseline: ref.rssAfterStartMb, unit: 'MB', target: '≤ 300 MB', met: big.rssAfterStartMb <= 300 },
      { figure: at('RSS after every command (max)'), bot: big.rssAfterCommandsMb, baseline: ref.rssAfterCommandsMb, unit: 'MB', target: '≤ 400 MB', met: big.rssAfterCommandsMb <= 400 },
    ];
    for (const [label, ms] of big.commands) {
      rows.push({ figure: at(`\`${label}\` (DM → first reply, median of 3)`), bot: ms, baseline: ref.commands.get(label)!, unit: 'ms', target: '≤ 250 ms', met: ms <= 250 });
    }
    rows.push(
      { figure: at(`flood of ${floodSize.toLocaleString('en')} reports: ack p99`), bot: big.floodP99, baseline: ref.floodP99, unit: 'ms', target: '', met: undefined },
      // RSS counts the database pages the flood touched (file pages mapped in, shared, reclaimable), not just heap.
      { figure: at(`RSS after the flood`), bot: big.rssAfterFloodMb, baseline: ref.rssAfterFloodMb, unit: 'MB', target: '', met: undefined },
      {
        figure: at(`flood of ${floodSize.toLocaleString('en')} reports: slowest ack`),
        bot: big.floodMax,
        baseline: ref.floodMax,
        unit: 'ms',
        target: '≤ reference + 100 ms',
        met: big.floodMax <= ref.floodMax + 100,
      },
    );
    return rows;
  } finally {
    await prosody.stop();
  }
}
