/**
 * Triage as operators chat (issue 15 §2–3), on a real Prosody: take and assign show in `!list`; a reminder of an
 * unacknowledged incident fires (short interval in the config) while a snoozed one stays quiet, and the snooze is
 * in the store.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { silentLogger } from '../../src/log.js';
import { sleep, startProsody, type Client, type Prosody } from '../../dev-tools/prosody.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfig, observeRoom, type RoomObserver } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'operator-chat-pw';
/** Reminders after 3 s in this test (0.05 min), looked for every 200 ms. */
const REMIND_MINUTES = 0.05;

let prosody: Prosody;
let bot: Bot;
let botJid: string;
let peer: PeerRecorder;
let alice: Client;
let room: RoomObserver;

async function reported(): Promise<number> {
  const inc = sampleIncident(PEER);
  await peer.sendIodef(botJid, 'report', inc);
  const number = bot.store.list().find((s) => s.incident.id === inc.id)!.number;
  await room.waitFor((b) => b.startsWith(`#${number} NEW`));
  return number;
}

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER] });
  for (const [user, host] of [
    ['incidents', HOME],
    ['alice', HOME],
    ['bob', HOME],
    ['incidents', PEER],
  ] as const) {
    await prosody.register(user, host, PASSWORD);
  }
  const roomJid = `operators@${prosody.mucOf(HOME)}`;
  alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD });
  room = await observeRoom(alice, roomJid, 'alice', { nonAnonymous: true });
  const config = botConfig({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), 'incident-bot-operator-chat-')), 'incidents.json'),
    defaultRoom: roomJid,
    admins: [`alice@${HOME}`, `bob@${HOME}`],
    peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
  });
  config.reminders = { enabled: true, urgentAfterMinutes: REMIND_MINUTES, otherAfterMinutes: REMIND_MINUTES, maxTimes: 1, checkSeconds: 0.2 };
  bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20 });
  botJid = `incidents@${HOME}/bot`;
  peer = recordPeer(await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' }));
  await room.waitForOccupant('incident-bot');
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await prosody?.stop();
});

describe('in the operators room', () => {
  it('reminds of an unacknowledged incident once, and a snoozed one not at all', async () => {
    const reminded = await reported();
    const snoozed = await reported();
    await room.say(`!snooze #${snoozed} 1h`);
    await room.waitFor((b) => b.startsWith(`#${snoozed}: reminders held for 1h`));
    await room.waitFor((b) => b.startsWith(`reminder: *#${reminded}* still *open*`), 10_000);
    await sleep(REMIND_MINUTES * 60_000 + 1000);
    const reminders = room.messages.filter((m) => m.nick === 'incident-bot' && m.body.startsWith('reminder:'));
    expect(reminders.map((m) => m.body)).toEqual([expect.stringContaining(`!ack #${reminded}`)]);
    expect(bot.store.getByNumber(snoozed)!.reminder?.snoozedUntil).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(bot.store.getByNumber(reminded)!.reminder?.count).toBe(1);
    await room.say('!list');
    await room.waitFor((b) => b.includes(`#${snoozed} *open*`) && b.includes('snoozed until'));
  }, 30_000);

  it('shows take and assign in !list, and !list mine lists what I own', async () => {
    const mine = await reported();
    const bobs = await reported();
    await room.say(`!take #${mine}`);
    await room.waitFor((b) => b.startsWith(`#${mine} is owned by alice@${HOME}`));
    await room.say(`!assign #${bobs} bob@${HOME}`);
    await room.waitFor((b) => b.startsWith(`#${bobs} is owned by bob@${HOME}`));
    await room.say('!list');
    const listed = await room.waitFor((b) => b.includes(`#${mine} `) && b.includes(`#${bobs} `));
    const lineOf = (n: number) => listed.split('\n').find((l) => l.startsWith(`#${n} `))!;
    expect(lineOf(mine)).toContain(`owner alice@${HOME}`);
    expect(lineOf(bobs)).toContain(`owner bob@${HOME}`);
    await room.say('!list mine');
    const own = await room.waitFor((b) => b !== listed && b.includes(`#${mine} `) && b.includes('owner'));
    expect(own.split('\n').filter((l) => l.startsWith('#')).map((l) => l.split(' ')[0])).toEqual([`#${mine}`]);
  }, 30_000);
});
