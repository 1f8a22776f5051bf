/**
 * The wall clock steps (NTP, an operator fixing the date) while the bot runs on a real Prosody: rates, room pacing
 * and delivery retries run on the monotonic clock, so a step back or forward of an hour changes none of them.
 * Only Date is faked here (it keeps advancing with real time); timers and performance.now() are real.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { parseConfig, type Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/log.js';
import { sleep, startProsody, stopClient, until, type Client, type Prosody } from '../../dev-tools/prosody.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfigJson, observeRoom, type RoomObserver } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'Clock-pw-5521';
const HOUR = 3_600_000;

let prosody: Prosody;
let bot: Bot;
let config: Config;
let room: RoomObserver;
const botJid = `incidents@${HOME}/bot`;

const peerClient = () => prosody.client({ username: 'reporter', host: PEER, password: PASSWORD, resource: 'bot' });
const numberOf = (id: string) => bot.store.list().find((s) => s.incident.id === id)!.number;
const outcome = (p: Promise<unknown>) => p.then(() => 'result', (e: { condition?: string }) => e.condition ?? String(e));

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER] });
  for (const [user, host] of [['incidents', HOME], ['alice', HOME], ['reporter', PEER]] as const) await prosody.register(user, host, PASSWORD);
  const json = botConfigJson({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), 'clock-step-')), 'incidents.json'),
    defaultRoom: `ops@${prosody.mucOf(HOME)}`,
    admins: [`alice@${HOME}`],
    peers: [{ jid: `reporter@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
  });
  config = parseConfig({ ...json, outbox: { retryMinSeconds: 0.5, retryMaxSeconds: 1, giveUpAfterMinutes: 30 } });
  bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20 });
  const alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'desk' });
  room = await observeRoom(alice, config.rooms.default, 'alice');
  await room.waitForOccupant('incident-bot');
}, 60_000);

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  vi.useRealTimers();
  await bot?.stop();
  await prosody?.stop();
});

/** Reports an incident from the peer, takes the peer offline, and has alice acknowledge it: a revision is owed. */
async function oweRevision(): Promise<{ id: string; number: number }> {
  const client = await peerClient();
  const inc = sampleIncident(PEER);
  await recordPeer(client).sendIodef(botJid, 'report', inc);
  const number = numberOf(inc.id);
  await stopClient(client);
  await room.say(`!ack #${number}`);
  await room.waitFor((b) => b.startsWith(`#${number} acknowledged`));
  await until(() => bot.store.outbox.some((e) => e.number === number && e.attempts >= 1), 8_000, 'a failed delivery attempt');
  return { id: inc.id, number };
}

async function peerBack(): Promise<{ client: Client; recorder: PeerRecorder }> {
  const client = await peerClient();
  return { client, recorder: recordPeer(client) };
}

describe('a wall clock stepped back one hour', () => {
  it('still accepts the trusted peer, answers in the room at once, and retries the owed revision', async () => {
    const owed = await oweRevision();
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() - HOUR);

    await room.say('!list');
    await room.waitFor((b) => b.startsWith(`#${owed.number} *acked*`), 5_000, 'the !list reply after the step');

    const { client, recorder } = await peerBack();
    const revision = await recorder.waitFor((r) => r.incident.id === owed.id && r.kind === 'report', 8_000, 'the owed revision');
    expect(revision.status).toBe('updated');

    const results: string[] = [];
    for (let i = 0; i < 5; i++) results.push(await outcome(recorder.sendIodef(botJid, 'report', sampleIncident(PEER))));
    expect(results).toEqual(Array(5).fill('result'));
    await stopClient(client);
  }, 40_000);
});

describe('a wall clock stepped forward one hour', () => {
  it('gives nothing up early (give-up after 30 minutes of waiting) and still delivers the owed revision', async () => {
    const owed = await oweRevision();
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + HOUR);
    await sleep(1_500); // more than one retry round: a give-up would have happened by now
    expect(bot.store.outbox.some((e) => e.number === owed.number)).toBe(true);
    expect(room.messages.some((m) => m.body.startsWith('Gave up'))).toBe(false);

    await room.say('!list');
    await room.waitFor((b) => b.startsWith(`#${owed.number} *acked*`), 5_000, 'the !list reply after the step');

    const { client, recorder } = await peerBack();
    await recorder.waitFor((r) => r.incident.id === owed.id && r.kind === 'report', 8_000, 'the owed revision');
    expect(await outcome(recorder.sendIodef(botJid, 'report', sampleIncident(PEER)))).toBe('result');
    await stopClient(client);
  }, 40_000);
});
