/**
 * Triage that fits how operators chat (issue 15 §2–4), on a real Prosody: ownership visible in !list, a reminder
 * firing for an incident nobody acknowledged and a snooze holding it, a mute holding announcements and its end line.
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
const PASSWORD = 'flow-pw';

let prosody: Prosody;
let bot: Bot;
let botJid: string;
let peer: PeerRecorder;
let alice: Client;
let room: RoomObserver;

async function reported(overrides = {}): Promise<number> {
  const inc = sampleIncident(PEER, overrides);
  await peer.sendIodef(botJid, 'report', inc);
  return bot.store.list().find((s) => s.incident.id === inc.id)!.number;
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
  const bob = await prosody.client({ username: 'bob', host: HOME, password: PASSWORD });
  await observeRoom(bob, roomJid, 'bob');
  const config = botConfig({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), 'incident-bot-flow-')), 'incidents.json'),
    defaultRoom: roomJid,
    admins: [`alice@${HOME}`],
    peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
  });
  // Reminders after 0.02 min (1.2 s) for severity 1–2, at most twice.
  config.reminders = { severeMinutes: 0.02, otherMinutes: 60, times: 2 };
  bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20, reminderCheckMs: 200, muteCheckMs: 200 });
  botJid = `incidents@${HOME}/bot`;
  peer = recordPeer(await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' }));
  await room.waitForOccupant('incident-bot');
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await prosody?.stop();
});

describe('ownership', () => {
  it('take and assign (by nick, through the real JID) show in !list, and the owner reaches the peer', async () => {
    const a = await reported({ severity: 4 });
    const b = await reported({ severity: 4 });
    await room.say(`!take #${a}`);
    await room.waitFor((t) => t.startsWith(`#${a} is owned by alice@${HOME}`));
    await room.say(`!assign #${b} bob`);
    await room.waitFor((t) => t.startsWith(`#${b} is owned by bob@${HOME}`));
    const revision = await peer.waitFor((r) => r.incident.id === bot.store.getByNumber(a)!.incident.id && r.kind === 'report');
    expect(revision.stanza.toString()).toMatch(/<Contact [^>]*role=["']tech["']/);
    await room.say('!list mine');
    const mine = await room.waitFor((t) => t.startsWith(`#${a} *open*`));
    expect(mine).toContain(`owner alice@${HOME}`);
    await room.say('!list all unowned');
    await sleep(300);
    const last = room.messages.at(-1)!.body;
    expect(last).not.toContain(`#${a} `);
    expect(last).not.toContain(`#${b} `);
  });
});

describe('reminders', () => {
  it('re-announce an incident nobody acknowledged, and a snooze holds them', async () => {
    const n = await reported({ severity: 1 });
    await room.waitFor((t) => t.startsWith('Reminder — not acknowledged yet:') && t.includes(`#${n} `), 8_000);
    await room.say(`!snooze #${n} 1h`);
    await room.waitFor((t) => t.startsWith(`#${n}: no reminder for 1h`));
    const count = () => room.messages.filter((m) => m.body.startsWith('Reminder') && m.body.includes(`#${n} `)).length;
    const before = count();
    await sleep(2_500);
    expect(count()).toBe(before);
    expect(bot.store.getByNumber(n)!.reminded).toBe(1);
    expect(bot.store.getByNumber(n)!.snoozedUntil).toBeDefined();
  });
});

describe('mutes', () => {
  it('hold the announcements of a peer (still stored), and its end says what arrived', async () => {
    await room.say(`!mute ${PEER} 2s flood`);
    await room.waitFor((t) => t.startsWith(`muted domain ${PEER} for`));
    const numbers = [await reported({ severity: 4 }), await reported({ severity: 4 })];
    await sleep(500);
    for (const n of numbers) expect(room.messages.some((m) => m.body.startsWith(`#${n} NEW`))).toBe(false);
    expect(bot.store.getByNumber(numbers[1]!)).toBeDefined();
    await room.waitFor((t) => t.startsWith(`mute on ${PEER} ended: 2 incidents arrived meanwhile, #${numbers[0]}–#${numbers[1]}`), 8_000);
  });
});
