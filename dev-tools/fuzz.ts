/**
 * Stanza fuzzing through the path real stanzas take: mutated copies of the XEP's example stanzas are parsed with
 * the client library's own XML parser and handed to the connection's own element handler, which emits `element`
 * (the middleware: iqCallee) and `stanza` (legacy messages, rooms, chat) exactly as for a stanza read from the
 * stream; what the bot sends back is captured instead of written to a socket.
 *
 * Checked: nothing throws (no 'error' event, no unhandled rejection), every IQ get/set gets exactly one result or
 * error and nothing else is answered, and memory stays flat. The harness's own bookkeeping is allocated before the
 * first measurement and does not grow with the run, so the heap figures are the bot's.
 */
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import xml, { type Element } from '@xmpp/xml';
import parse from 'ltx/lib/parse.js';
import { assembleBot } from '../src/bot.js';
import { parseConfig } from '../src/core/config.js';
import { silentLogger } from '../src/log.js';
import { createConnection } from '../src/xmpp/connection.js';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const BOT = 'incidents@home.localhost/bot';
const SENDERS = ['incidents@peer.localhost/bot', 'legacy@peer.localhost/x', 'stranger@evil.localhost/r', 'peer.localhost'];

export interface FuzzReport {
  stanzas: number;
  unparseable: number;
  iqs: number;
  iqsAnswered: number;
  iqsAnsweredTwice: number;
  iqsUnanswered: number;
  /** IQ results/errors the bot sent that answer no IQ get/set of the run (e.g. a reply to a result): a bug. */
  strayReplies: number;
  results: number;
  errors: Record<string, number>;
  messages: number;
  crashes: number;
  crashSamples: string[];
  rssBeforeMb: number;
  rssAfterMb: number;
  /** V8 heap in use after a full GC: what a leak would grow (RSS also keeps pages V8 has freed). */
  heapBeforeMb: number;
  heapAfterMb: number;
  /** What the bot legitimately keeps: incidents stored and the store file's size at the end. */
  storedIncidents: number;
  storeMb: number;
  seconds: number;
  /** Heap snapshots written during the run (see FuzzOptions.heapSnapshotsAt). */
  heapSnapshots: string[];
}

export interface FuzzOptions {
  /** Stanzas per batch: the harness waits for every IQ of a batch to be answered before sending the next. */
  batch?: number;
  /** Write a V8 heap snapshot (after a full GC) once this many stanzas have been sent, for each number listed. */
  heapSnapshotsAt?: readonly number[];
  /** Where heap snapshots go (default: the OS temp dir). */
  heapSnapshotDir?: string;
  /** The n-th stanza's text, instead of a mutated XEP example (for targeted runs, e.g. one kind of stanza). */
  stanzaText?: (n: number, r: () => number) => string;
}

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed with its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function loadSeeds(): Promise<string[]> {
  const seeds: string[] = [];
  for (const dir of ['iodef', 'legacy']) {
    for (const file of await readdir(join(FIXTURES, dir))) {
      if (file.endsWith('.xml')) seeds.push((await readFile(join(FIXTURES, dir, file), 'utf8')).replace(/^<!--[\s\S]*?-->\s*/, ''));
    }
  }
  return seeds;
}

const UNICODE = ['\u202e', '\u200b', '\ufeff', '\ud83d\ude00', 'e\u0301', '\u0000', '\ud800', '\uffff', '&#xD800;', '&#0;', '&#x1F600;', 'ǅ', '\u2028'];
const BAD_VALUES = ['', ' ', 'not-a-uuid', '2009-13-45T99:99:99Z', '9999999999', '-1', '@@', 'a@b@c', '[::1', '1.2.3.4:99999', 'x'.repeat(300), 'high', 'ext-value'];

type Mutation = (s: string, r: () => number) => string;

const pick = <T>(list: readonly T[], r: () => number): T => list[Math.floor(r() * list.length)]!;

const MUTATIONS: Record<string, Mutation> = {
  truncate: (s, r) => s.slice(0, Math.floor(r() * s.length)),
  swapNamespace: (s, r) =>
    s.replace(pick([/urn:xmpp:incident:2/g, /urn:xmpp:incident:0/g, /urn:ietf:params:xml:ns:iodef-1.0/g, /urn:xmpp:jid:0/g], r), pick(['urn:xmpp:incident:0', 'urn:xmpp:incident:2', 'urn:evil', 'jabber:client', ''], r)),
  giantText: (s, r) => s.replace(/>([^<>]{3,})</, `>${'A'.repeat(Math.floor(r() * 300_000))}<`),
  badValue: (s, r) => {
    const values = [...s.matchAll(/>([^<>\s][^<>]*)</g)];
    if (values.length === 0) return s;
    const m = pick(values, r);
    return `${s.slice(0, m.index! + 1)}${pick(BAD_VALUES, r)}${s.slice(m.index! + 1 + m[1]!.length)}`;
  },
  badAttribute: (s, r) => {
    const attrs = [...s.matchAll(/(?<=\s)([\w:-]+)='([^']*)'/g)];
    if (attrs.length === 0) return s;
    const m = pick(attrs, r);
    return s.replace(m[0], r() < 0.3 ? '' : `${m[1]}='${pick(BAD_VALUES, r)}'`);
  },
  duplicate: (s) => {
    const m = /<(\w+)[^>]*>[^<]*<\/\1>/.exec(s.slice(20));
    return m ? s.replace(m[0], `${m[0]}${m[0]}`) : s;
  },
  wrongIqType: (s, r) => s.replace(/type='(get|set)'/, `type='${pick(['get', 'set', 'result', 'error', 'bogus', ''], r)}'`),
  unicode: (s, r) => {
    const at = Math.floor(r() * s.length);
    return `${s.slice(0, at)}${pick(UNICODE, r)}${s.slice(at)}`;
  },
  deepNesting: (s, r) => {
    const depth = 10 + Math.floor(r() * 3000);
    return s.replace(/<(Description|text)([^>]*)>/, `<$1$2>${'<x>'.repeat(depth)}${'</x>'.repeat(depth)}`);
  },
  manyElements: (s, r) => s.replace(/<(Description|text)([^>]*)>/, `<$1$2>${'<y/>'.repeat(Math.floor(r() * 20_000))}`),
  byteFlip: (s, r) => {
    let out = s;
    for (let i = 0; i < 1 + Math.floor(r() * 4); i++) {
      const at = Math.floor(r() * out.length);
      out = `${out.slice(0, at)}${String.fromCharCode(32 + Math.floor(r() * 95))}${out.slice(at + 1)}`;
    }
    return out;
  },
  dropElement: (s, r) => {
    const elements = [...s.matchAll(/<(\w+)[^>]*>[^<]*<\/\1>/g)];
    return elements.length ? s.replace(pick(elements, r)[0], '') : s;
  },
};

export const MUTATION_NAMES = Object.keys(MUTATIONS);

/** Runs `count` mutated stanzas through a bot assembled around an unconnected client. */
export async function fuzz(count: number, seed = 1, options: FuzzOptions = {}): Promise<FuzzReport> {
  const { batch = 200, heapSnapshotsAt = [], heapSnapshotDir = tmpdir(), stanzaText } = options;
  const r = rng(seed);
  const seeds = await loadSeeds();
  const dir = await mkdtemp(join(tmpdir(), 'incident-bot-fuzz-'));
  const config = parseConfig({
    xmpp: { service: 'xmpp://127.0.0.1:1', domain: 'home.localhost', username: 'incidents', password: 'fuzz-pw', resource: 'bot' },
    rooms: { default: 'operators@conference.home.localhost', allow: ['*@conference.home.localhost'] },
    admins: ['alice@home.localhost'],
    peers: [
      { jid: 'incidents@peer.localhost/bot', trust: 'trusted', format: 'iodef' },
      { jid: 'legacy@peer.localhost', trust: 'trusted', format: 'legacy' },
    ],
    storage: { path: join(dir, 'incidents.json') },
    limits: { reportsPerMinute: 1_000_000_000, burst: 1_000_000_000 },
  });
  const log = silentLogger();
  const xmppClient = createConnection(config, log);
  const report: FuzzReport = {
    stanzas: 0, unparseable: 0, iqs: 0, iqsAnswered: 0, iqsAnsweredTwice: 0, iqsUnanswered: 0, strayReplies: 0, results: 0,
    errors: {}, messages: 0, crashes: 0, crashSamples: [], rssBeforeMb: 0, rssAfterMb: 0, heapBeforeMb: 0, heapAfterMb: 0, storedIncidents: 0, storeMb: 0, seconds: 0,
    heapSnapshots: [],
  };
  const crash = (what: string) => {
    report.crashes += 1;
    if (report.crashSamples.length < 5) report.crashSamples.push(what.slice(0, 300));
  };
  const onUnhandled = (err: unknown) => crash(`unhandled rejection: ${String((err as Error)?.stack ?? err)}`);
  const onUncaught = (err: Error) => crash(`uncaught exception: ${err.stack ?? err.message}`);
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUncaught);

  // Per-stanza bookkeeping in fixed-size arrays indexed by stanza number (the IQ id is `fz<n>`), allocated up front:
  // a map keyed by id would grow with the run and be counted as the bot's memory.
  const isQuery = new Uint8Array(count);
  const replyCount = new Uint8Array(count);
  let waiting = new Map<string, () => void>();
  // What the bot would write to the socket: count replies per IQ id.
  (xmppClient as unknown as { send: (el: Element) => Promise<void> }).send = async (el: Element) => {
    if (!el.is('iq') || (el.attrs.type !== 'result' && el.attrs.type !== 'error')) return;
    const id = String(el.attrs.id);
    const index = /^fz\d+$/.test(id) ? Number(id.slice(2)) : -1;
    if (index >= 0 && index < count && isQuery[index]) replyCount[index] = Math.min(255, replyCount[index]! + 1);
    else report.strayReplies += 1;
    if (el.attrs.type === 'result') report.results += 1;
    else {
      const condition = el.getChild('error')?.getChildElements()[0]?.name ?? 'none';
      report.errors[condition] = (report.errors[condition] ?? 0) + 1;
    }
    waiting.get(id)?.();
  };
  const bot = await assembleBot(config, { log, xmpp: xmppClient });
  xmppClient.on('error', (err: Error) => crash(`error event: ${err.message}`));
  // Rooms would be joined by presence; with no server, the announcer's sends go to the capture above.

  const started = performance.now();
  const gc = fullGc();
  try {
    let n = 0;
    while (n < count) {
      const pending: Array<Promise<void>> = [];
      waiting = new Map();
      for (let i = 0; i < batch && n < count; i++, n++) {
        const base = pick(seeds, r);
        let text = stanzaText ? stanzaText(n, r) : base;
        const rounds = stanzaText ? 0 : 1 + Math.floor(r() * 3);
        const applied: string[] = [];
        const t0 = performance.now();
        for (let k = 0; k < rounds; k++) {
          const name = pick(MUTATION_NAMES, r);
          applied.push(name);
          text = MUTATIONS[name]!(text, r);
        }
        if (process.env.FUZZ_DEBUG && performance.now() - t0 > 100) console.log('slow mutation', applied, (performance.now() - t0).toFixed(0), text.length);
        report.stanzas += 1;
        let stanza: Element;
        try {
          stanza = parse(text) as Element;
          if (!stanza || typeof stanza.is !== 'function') throw new Error('no element');
        } catch {
          report.unparseable += 1; // the server would have closed the sender's stream: nothing reaches the bot
          continue;
        }
        // The server stamps these: from is a real sender, to is us, ids are unique on the stream.
        const id = `fz${n}`;
        stanza.attrs.from = pick(SENDERS, r);
        stanza.attrs.to = BOT;
        stanza.attrs.id = id;
        if (stanza.is('iq') && (stanza.attrs.type === 'get' || stanza.attrs.type === 'set' || !['result', 'error'].includes(String(stanza.attrs.type)))) {
          report.iqs += 1;
          isQuery[n] = 1;
          pending.push(
            new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 10_000);
              waiting.set(id, () => {
                clearTimeout(timer);
                resolve();
              });
            }),
          );
        } else if (stanza.is('message')) {
          report.messages += 1;
        }
        try {
          const t1 = performance.now();
          // As the connection does for each element it reads: 'element' (middleware), then 'stanza'.
          (xmppClient as unknown as { _onElement(el: Element): void })._onElement(stanza);
          if (process.env.FUZZ_DEBUG && performance.now() - t1 > 100) console.log('slow emit', applied, (performance.now() - t1).toFixed(0), text.length);
        } catch (err) {
          crash(`emit threw: ${(err as Error).stack}`);
        }
      }
      await Promise.all(pending);
      if (heapSnapshotsAt.includes(n)) {
        gc();
        report.heapSnapshots.push(writeHeapSnapshot(join(heapSnapshotDir, `fuzz-${seed}-${n}.heapsnapshot`)));
      }
      if (n === Math.min(count, batch * 10)) {
        gc();
        report.rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
        report.heapBeforeMb = process.memoryUsage().heapUsed / 2 ** 20;
      }
    }
    await new Promise((res) => setTimeout(res, 200));
    for (let i = 0; i < count; i++) {
      if (!isQuery[i] || replyCount[i] === 0) continue;
      report.iqsAnswered += 1;
      if (replyCount[i]! > 1) report.iqsAnsweredTwice += 1;
    }
    report.iqsUnanswered = report.iqs - report.iqsAnswered;
    gc();
    report.rssAfterMb = process.memoryUsage().rss / 2 ** 20;
    report.heapAfterMb = process.memoryUsage().heapUsed / 2 ** 20;
    if (report.rssBeforeMb === 0) report.rssBeforeMb = report.rssAfterMb;
    if (report.heapBeforeMb === 0) report.heapBeforeMb = report.heapAfterMb;
    report.seconds = (performance.now() - started) / 1000;
    await bot.store.flush();
    report.storedIncidents = bot.store.size;
    // The store on disk: its manifest and its database file (LMDB keeps freed pages for reuse, never shrinks).
    let bytes = 0;
    for (const name of await readdir(dir)) bytes += (await stat(join(dir, name))).size;
    report.storeMb = bytes / 2 ** 20;
  } finally {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUncaught);
    await bot.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
  return report;
}

/**
 * A full GC, so heap figures are what is still reachable: `global.gc` under `node --expose-gc`, else the flag is
 * turned on at run time (as in a vitest worker) and the function taken from a fresh context.
 */
function fullGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Failures of a fuzz report, in words (empty when it passed). */
export function fuzzFailures(report: FuzzReport, maxHeapGrowthMb = 24): string[] {
  const problems: string[] = [];
  if (report.crashes > 0) problems.push(`${report.crashes} crashes, e.g. ${report.crashSamples.join(' | ')}`);
  if (report.iqsUnanswered !== 0) problems.push(`${report.iqsUnanswered} IQs got no reply`);
  if (report.iqsAnsweredTwice !== 0) problems.push(`${report.iqsAnsweredTwice} IQs got more than one reply`);
  if (report.strayReplies !== 0) problems.push(`${report.strayReplies} IQ results/errors answered no IQ get/set (e.g. a reply to a result)`);
  // The heap may grow with what is legitimately stored (every incident and its versions stay in memory, and a JS
  // object costs a few times its JSON size); growth beyond that is a leak. RSS is reported, not judged: V8 and
  // the allocator keep freed pages, so RSS only ever shows the high-water mark of the giant-text mutations.
  const allowed = maxHeapGrowthMb + 4 * report.storeMb;
  if (report.heapAfterMb - report.heapBeforeMb > allowed) {
    problems.push(
      `V8 heap grew from ${report.heapBeforeMb.toFixed(0)} MB to ${report.heapAfterMb.toFixed(0)} MB, more than the ${allowed.toFixed(0)} MB the stored data explains`,
    );
  }
  return problems;
}

export { xml };
