/**
 * Issue 11, a full disk, from outside: the bot run as an operator runs it (src/main.ts --config FILE, in its own
 * process) with its store on a small real filesystem (a tmpfs: the test fails, saying so, where it cannot mount),
 * a peer on a real Prosody, an admin in the operators room.
 *
 * A report refused because the disk is full is never acknowledged, not even when re-sent; the room hears it once;
 * once space returns the bot writes again by itself and the re-sent report is stored and acknowledged; SIGTERM
 * while the disk is full exits cleanly without leaving the lock; after a restart `show` knows the report.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeIodef } from '../../src/protocol/iodef.js';
import { startNodeProcess, type NodeProcess } from '../../dev-tools/node-process.js';
import { sampleIncident } from '../../dev-tools/peers.js';
import { nextStanza, startProsody, type Client, type Prosody } from '../../dev-tools/prosody.js';
import { botConfigJson, observeRoom, type RoomObserver } from '../../dev-tools/room.js';
import { mountSmallDisk, type SmallDisk } from '../../dev-tools/small-disk.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'disk-full-pw';
const root = new URL('../../', import.meta.url).pathname;

let prosody: Prosody;
let disk: SmallDisk;
let configDir: string;
let configFile: string;
let peer: Client;
let alice: Client;
let room: RoomObserver;
const bots: NodeProcess[] = [];

function startBot(): Promise<NodeProcess> {
  return startNodeProcess(['src/main.ts', '--config', configFile], {
    ready: (out) => out.includes('"msg":"bot started"'),
    what: 'the bot',
    timeoutMs: 30_000,
    cwd: root,
    env: { ...process.env, LOG_FORMAT: 'json' },
  }).then((bot) => {
    bots.push(bot);
    return bot;
  });
}

/** Sends a report; resolves with 'result' or the error condition the bot answered with. */
async function send(incident: ReturnType<typeof sampleIncident>): Promise<string> {
  try {
    await peer.iqCaller.request(xml('iq', { type: 'set', to: `incidents@${HOME}/bot` }, encodeIodef('report', incident)), 15_000);
    return 'result';
  } catch (err) {
    const e = err as { name?: string; condition?: string; type?: string };
    if (e.name === 'StanzaError') return `${e.type}/${e.condition}`;
    throw err;
  }
}

beforeAll(async () => {
  disk = mountSmallDisk(16 << 20);
  prosody = await startProsody({ hosts: [HOME, PEER] });
  for (const [user, host] of [
    ['incidents', HOME],
    ['alice', HOME],
    ['incidents', PEER],
  ] as const) {
    await prosody.register(user, host, PASSWORD);
  }
  const ops = `ops@${prosody.mucOf(HOME)}`;
  const config = botConfigJson({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(disk.dir, 'incidents.json'),
    defaultRoom: ops,
    admins: [`alice@${HOME}`],
    peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
  });
  configDir = await mkdtemp(join(tmpdir(), 'incident-bot-disk-full-'));
  configFile = join(configDir, 'bot.config.json');
  await writeFile(configFile, JSON.stringify(config));
  alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD });
  room = await observeRoom(alice, ops, 'alice');
  peer = await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' });
}, 60_000);

afterAll(async () => {
  for (const bot of bots) if (bot.child.exitCode === null && bot.child.signalCode === null) bot.child.kill('SIGKILL');
  await peer?.stop().catch(() => undefined);
  await alice?.stop().catch(() => undefined);
  await prosody?.stop();
  if (configDir) await rm(configDir, { recursive: true, force: true });
  disk?.unmount();
});

describe('a full disk under the running bot', () => {
  it('never acknowledges what it could not store, says so once, recovers by itself, and keeps it across a restart', async () => {
    const bot = await startBot();
    await room.waitForOccupant('incident-bot', 15_000);
    expect(await send(sampleIncident(PEER))).toBe('result');

    disk.fill(0);
    // Big enough (about 40 KB) that it cannot fit in pages the database file already holds.
    const big = (c: string) => ['en', 'de', 'fr', 'es', 'it'].map((lang) => ({ lang, text: `big report ${c.repeat(8000)}` }));
    const report = sampleIncident(PEER, { texts: big('x') });
    expect(await send(report)).toBe('wait/resource-constraint');
    // The peer retries while the disk is still full: refused again, never taken for a report already known.
    expect(await send(report)).toBe('wait/resource-constraint');
    expect(await send(report)).toBe('wait/resource-constraint');
    await room.waitFor((b) => b.startsWith('Disk full: reports are being refused'), 10_000);
    // Many in flight at once on the full disk: every one is answered (refused), and the bot lives on.
    const burst = await Promise.all(Array.from({ length: 11 }, () => send(sampleIncident(PEER, { texts: big('z') }))));
    expect(burst).toEqual(Array(11).fill('wait/resource-constraint'));
    expect(bot.child.exitCode).toBeNull();

    disk.free();
    await room.waitFor((b) => b.startsWith('Disk OK again'), 20_000);
    expect(room.messages.filter((m) => m.body.startsWith('Disk full')).length).toBe(1);
    expect(await send(report)).toBe('result');
    await room.waitFor((b) => b.includes(report.id), 10_000);

    // SIGTERM while the disk is full: a clean exit (code 0), no stale lock.
    disk.fill(0);
    // (The database file keeps free pages, e.g. from the recovery probe: reports fill those before one is refused.)
    const answers: string[] = [];
    while (!answers.includes('wait/resource-constraint') && answers.length < 40) answers.push(await send(sampleIncident(PEER, { texts: big('y') })));
    expect(answers.at(-1)).toBe('wait/resource-constraint');
    expect(answers.filter((a) => a !== 'result' && a !== 'wait/resource-constraint')).toEqual([]);
    bot.child.kill('SIGTERM');
    const exit = await bot.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(join(disk.dir, 'incidents.json.lock'))).toBe(false);
    disk.free();

    await startBot();
    const answer = nextStanza(alice, (el) => el.is('message') && el.attrs.type === 'chat' && String(el.attrs.from).startsWith(`incidents@${HOME}`), 10_000);
    await alice.send(xml('message', { to: `incidents@${HOME}/bot`, type: 'chat' }, xml('body', {}, `show ${report.id}`)));
    const body = (await answer).getChildText('body') ?? '';
    expect(body).toMatch(/^#2 \*open\*/);
    expect(body).toContain(report.id);
  }, 120_000);
});
