/**
 * Who may command the bot, attacked from outside on a real Prosody (issue 11, "any XMPP user can become an admin"):
 * rights come from the configuration only — configured admins, and owners/admins of configured operators rooms
 * in that room — never from a room a report named, nor from a room a stranger created.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { silentLogger } from '../../src/log.js';
import { nextStanza, sleep, startProsody, until, type Client, type Element, type Prosody } from '../../dev-tools/prosody.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfig, observeRoom, type RoomObserver } from '../../dev-tools/room.js';
import { encodeLegacy, LEGACY_NS } from '../../src/protocol/legacy.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const ROGUE = 'rogue.localhost';
const PASSWORD = 'rights-pw';

let prosody: Prosody;
let bot: Bot;
let botJid: string;
let muc: string;
let peer: PeerRecorder; // incidents@peer.localhost/bot: trusted
let peerClient: Client;
let mallory: Client; // mallory@rogue.localhost: nobody to the bot
let malloryAsPeer: PeerRecorder;
let alice: Client; // configured admin
let carol: Client; // owner of the second operators room, not a configured admin
let aliceRoom: RoomObserver;
let heldBy: RoomObserver; // bob holds the bot's nick in this operators room
let heldReportRoom: RoomObserver; // … and in this room a trusted report will name
let aliceNotices: string[];

const room = (name: string) => `${name}@${muc}`;

function dm(from: Client, text: string): Promise<string> {
  const answer = nextStanza(from, (el: Element) => el.is('message') && el.attrs.type === 'chat' && String(el.attrs.from).startsWith(`incidents@${HOME}`), 8_000);
  void from.send(xml('message', { to: botJid, type: 'chat' }, xml('body', {}, text)));
  return answer.then((el) => el.getChildText('body') ?? '');
}

async function trustedReport(overrides = {}) {
  const inc = sampleIncident(PEER, overrides);
  await peer.sendIodef(botJid, 'report', inc);
  return { inc, number: bot.store.list().find((s) => s.incident.id === inc.id)!.number };
}

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER, ROGUE] });
  muc = prosody.mucOf(HOME);
  for (const [user, host] of [
    ['incidents', HOME],
    ['alice', HOME],
    ['bob', HOME],
    ['carol', HOME],
    ['incidents', PEER],
    ['mallory', ROGUE],
  ] as const) {
    await prosody.register(user, host, PASSWORD);
  }
  alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD });
  aliceNotices = [];
  alice.on('stanza', (el: Element) => {
    if (el.is('message') && el.attrs.type === 'chat' && String(el.attrs.from).startsWith(`incidents@${HOME}`)) aliceNotices.push(el.getChildText('body') ?? '');
  });
  carol = await prosody.client({ username: 'carol', host: HOME, password: PASSWORD });
  // carol creates (and owns) the second operators room before the bot starts; bob takes the bot's nick in another.
  await observeRoom(carol, room('ops2'), 'carol', { nonAnonymous: true });
  const bob = await prosody.client({ username: 'bob', host: HOME, password: PASSWORD });
  heldBy = await observeRoom(bob, room('held'), 'incident-bot');
  heldReportRoom = await observeRoom(bob, room('held-report'), 'incident-bot');
  mallory = await prosody.client({ username: 'mallory', host: ROGUE, password: PASSWORD, resource: 'bot' });
  malloryAsPeer = recordPeer(mallory);
  const config = botConfig({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), 'incident-bot-rights-')), 'incidents.json'),
    defaultRoom: room('operators'),
    // The NFD spelling of café: the server answers from the composed one.
    // And one with ß, which the server's nodeprep folds to ss (toLowerCase would not).
    operators: [room('ops2'), room('held'), room('cafe\u0301'), room('Straße')],
    allow: [`*@${muc}`],
    maxJoined: 2,
    admins: [`alice@${HOME}`],
    peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
  });
  bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20 });
  botJid = `incidents@${HOME}/bot`;
  peerClient = await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' });
  peer = recordPeer(peerClient);
  aliceRoom = await observeRoom(alice, config.rooms.default, 'alice');
  await aliceRoom.waitForOccupant('incident-bot');
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await prosody?.stop();
});

describe('a stranger who creates a room', () => {
  it('cannot make the bot join it with an untrusted report: it is announced, flagged, in the default room', async () => {
    const war = room('mallory-war');
    const warRoom = await observeRoom(mallory, war, 'mallory', { nonAnonymous: true });
    const inc = sampleIncident(ROGUE, { room: war });
    await malloryAsPeer.sendIodef(botJid, 'report', inc);
    const line = await aliceRoom.waitFor((b) => b.includes(inc.id) || b.includes('UNTRUSTED'));
    expect(line).toContain('UNTRUSTED');
    await aliceRoom.waitFor((b) => b.includes(`names room ${war}, not joined: an untrusted sender never makes me join a room`));
    expect(bot.rooms.list()).not.toContain(war);
    expect(warRoom.occupants.has('incident-bot')).toBe(false);
  });

  it('owning a room a trusted report names gives no right there: commands refused, help says why, nothing sent', async () => {
    const squat = room('squat');
    const squatRoom = await observeRoom(mallory, squat, 'mallory', { nonAnonymous: true }); // created first: mallory owns it
    const { inc, number } = await trustedReport({ room: squat });
    await squatRoom.waitFor((b) => b.includes(inc.id));
    const before = peer.received.length;
    await squatRoom.say(`!ack #${number}`);
    await squatRoom.waitFor((b) => b.includes(`This room (${squat}) is not an operators room`));
    await squatRoom.say(`!report severity=high src=victim@${HOME} forged`); // refused, not told again so soon
    await squatRoom.say('!help');
    await squatRoom.waitFor((b) => b.includes('Commands') || b.includes('!help'), 8_000, 'the help');
    await sleep(300);
    // Told once for the two commands (a squatter cannot make the bot talk without end), and once more by !help.
    expect(squatRoom.messages.filter((m) => m.body.includes('is not an operators room')).length).toBe(2);
    expect(bot.store.getByNumber(number)!.state).toBe('open');
    expect(peer.received.length).toBe(before);
    expect(bot.store.list().filter((s) => s.incident.texts.some((t) => t.text.includes('forged')))).toEqual([]);
  });

  it('gets nothing by direct message', async () => {
    expect(await dm(mallory, 'stats')).toBe('Sorry, only the administrators of this incident bot can talk to it.');
    const { number } = await trustedReport();
    expect(await dm(mallory, `solve #${number} done`)).toBe('Sorry, only the administrators of this incident bot can talk to it.');
    expect(bot.store.getByNumber(number)!.state).toBe('open');
  });
});

describe('configured rights', () => {
  it("an owner of a configured operators room acts there, but a direct message is for configured admins only", async () => {
    await until(() => bot.rooms.isJoined(room('ops2')), 10_000, 'the bot in ops2');
    const carolRoom = await observeRoom(carol, room('ops2'), 'carol-2');
    const { number } = await trustedReport();
    await carolRoom.say(`!ack #${number} mine`);
    await carolRoom.waitFor((b) => b.startsWith(`#${number} acknowledged`));
    expect(bot.store.getByNumber(number)!.state).not.toBe('open');
    expect(await dm(carol, 'stats')).toBe('Sorry, only the administrators of this incident bot can talk to it.');
    expect(await dm(alice, 'stats')).not.toContain('Sorry');
  });

  it('joins an operators room written in another Unicode form, and knows it is in', async () => {
    const composed = room('caf\u00e9');
    await until(() => bot.rooms.isJoined(composed), 10_000, 'the bot confirmed in café');
    expect(bot.rooms.isJoined(room('cafe\u0301'))).toBe(true);
    expect(bot.rooms.isJoined(room('ＣＡＦÉ'))).toBe(true);
    await until(() => bot.rooms.isJoined(room('strasse')), 10_000, 'the bot confirmed in strasse (configured as Straße)');
    expect(bot.rooms.isJoined(room('STRASSE'))).toBe(true);
  });
});

describe('rooms reports name', () => {
  it('are at most rooms.maxJoined at once: the least recently used is left first', async () => {
    for (const name of ['r1', 'r2', 'r3']) {
      const { inc } = await trustedReport({ room: room(name) });
      await until(() => bot.rooms.isJoined(room(name)), 10_000, `the bot in ${name}`);
      void inc;
    }
    const named = bot.rooms.list().filter((r) => /^(r\d|squat)@/.test(r));
    expect(named.sort()).toEqual([room('r2'), room('r3')]);
    // r2 is now the least recently used: naming r1 again leaves r2.
    await trustedReport({ room: room('r1') });
    await until(() => bot.rooms.isJoined(room('r1')), 10_000, 'the bot back in r1');
    expect(bot.rooms.list().filter((r) => /^r\d@/.test(r)).sort()).toEqual([room('r1'), room('r3')]);
  });
});

describe('someone holding the bot\'s nick', () => {
  it('keeps the bot out of that room (no look-alike nick), and the admins are told', async () => {
    await until(() => aliceNotices.some((n) => n.includes(`I cannot join my operators room ${room('held')}`)), 10_000, 'the notice to alice');
    const notice = aliceNotices.find((n) => n.includes(room('held')))!;
    expect(notice).toContain('Someone in the room uses my nick incident-bot');
    expect(bot.rooms.isJoined(room('held'))).toBe(false);
    expect([...heldBy.occupants.keys()].filter((n) => n.startsWith('incident-bot'))).toEqual(['incident-bot']);
  });

  it('in a room a trusted report names: not joined as a look-alike, announced in the default room saying why, admins told', async () => {
    const held = room('held-report');
    const { inc } = await trustedReport({ room: held });
    const line = await aliceRoom.waitFor((b) => b.includes(inc.id));
    expect(line).toContain(`(The report names room ${held}, not joined: someone there uses my nick (the admins are told). Announced here instead.)`);
    await until(() => aliceNotices.some((n) => n.startsWith(`A report names the room ${held}`)), 10_000, 'the notice to alice');
    expect(bot.rooms.list()).not.toContain(held); // forgotten: not rejoined after a reconnect, outside rooms.maxJoined
    expect([...heldReportRoom.occupants.keys()].filter((n) => n.startsWith('incident-bot'))).toEqual(['incident-bot']);
    expect(heldReportRoom.messages.some((m) => m.body.includes(inc.id))).toBe(false);
  });
});

describe('announcements while the bot is out of its room', () => {
  it('are kept and made once it is back in', async () => {
    const inc = sampleIncident(PEER);
    // Drop the bot's stream; the report arrives as soon as it is back online, before its rooms are rejoined.
    const online = new Promise<void>((resolve) => bot.xmpp.once('online', () => resolve()));
    (bot.xmpp as unknown as { socket: { destroy(): void } }).socket.destroy();
    await online;
    await peer.sendIodef(botJid, 'report', inc);
    await aliceRoom.waitFor((b) => b.includes(inc.id), 20_000);
  });

  it('an announcement made while the stream is down waits for the reconnect and the rejoin', async () => {
    const inc = sampleIncident(PEER);
    const socket = () => (bot.xmpp as unknown as { socket: { destroy(): void } }).socket;
    // The stream drops as the report arrives: the bot stores it and announces while it is disconnected.
    const cut = (el: Element) => {
      if (!el.is('message') || !el.getChild('incident', LEGACY_NS)) return;
      bot.xmpp.removeListener('stanza', cut);
      socket().destroy();
    };
    bot.xmpp.on('stanza', cut);
    const online = new Promise<void>((resolve) => bot.xmpp.once('online', () => resolve()));
    await peerClient.send(xml('message', { to: botJid }, encodeLegacy(inc)));
    await online;
    await aliceRoom.waitFor((b) => b.includes(inc.id), 20_000);
  });
});
