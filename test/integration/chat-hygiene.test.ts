/**
 * No silent failures and no double runs (issue 15 §1), on a real Prosody: a near-miss command gets "did you mean",
 * an XEP-0308 correction of a command is not executed (said once), and a command replayed from the room's history
 * on rejoin is not executed.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { silentLogger } from '../../src/log.js';
import { sleep, startProsody, type Client, type Prosody } from '../../dev-tools/prosody.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfig, observeRoom, type RoomObserver } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'hygiene-pw';

let prosody: Prosody;
let bot: Bot;
let botJid: string;
let peer: PeerRecorder;
let alice: Client;
let room: RoomObserver;
let roomJid: string;

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
    ['incidents', PEER],
  ] as const) {
    await prosody.register(user, host, PASSWORD);
  }
  roomJid = `operators@${prosody.mucOf(HOME)}`;
  alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD });
  // alice creates the room first, non-anonymous, so that it keeps a history the bot is offered on joining.
  room = await observeRoom(alice, roomJid, 'alice', { nonAnonymous: true });
  const config = botConfig({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), 'incident-bot-hygiene-')), 'incidents.json'),
    defaultRoom: roomJid,
    admins: [`alice@${HOME}`],
    peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
  });
  bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20 });
  botJid = `incidents@${HOME}/bot`;
  peer = recordPeer(await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' }));
  await room.waitForOccupant('incident-bot');
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await prosody?.stop();
});

describe('in the room', () => {
  it('answers a near miss with did-you-mean, and stays silent for another bot\'s command', async () => {
    const number = await reported();
    await room.say(`!acknowledge #${number}`);
    await room.waitFor((b) => b === 'unknown command !acknowledge — did you mean !ack?');
    await room.say('!weather paris');
    await room.say(`!ack#${number}`);
    await room.waitFor((b) => b.startsWith(`#${number} acknowledged`));
    expect(room.messages.some((m) => m.body.includes('weather'))).toBe(true);
    expect(room.messages.filter((m) => m.nick === 'incident-bot' && m.body.includes('!weather'))).toEqual([]);
  });

  it('does not run a corrected command again (XEP-0308), and says so once', async () => {
    const number = await reported();
    const id = `note-${Date.now()}`;
    await alice.send(xml('message', { to: roomJid, type: 'groupchat', id }, xml('body', {}, `!note #${number} first version`)));
    await room.waitFor((b) => b.includes(`#${number}`) && b.includes('note'));
    const notes = () => bot.store.getByNumber(number)!.timeline.filter((t) => t.action === 'note').length;
    const revisions = () => peer.received.filter((r) => r.incident.id === bot.store.getByNumber(number)!.incident.id).length;
    await sleep(300);
    const [notesBefore, revisionsBefore] = [notes(), revisions()];
    for (const text of ['second version', 'third version']) {
      await alice.send(
        xml('message', { to: roomJid, type: 'groupchat' }, xml('body', {}, `!note #${number} ${text}`), xml('replace', { xmlns: 'urn:xmpp:message-correct:0', id })),
      );
    }
    await room.waitFor((b) => b.startsWith('Edited messages are not executed'));
    await sleep(500);
    expect(notes()).toBe(notesBefore);
    expect(revisions()).toBe(revisionsBefore);
    expect(room.messages.filter((m) => m.body.startsWith('Edited messages are not executed'))).toHaveLength(1);
  });

  it('does not run commands replayed from the room history when it rejoins', async () => {
    const number = await reported();
    await room.say(`!solve #${number} history must not run this`);
    await room.waitFor((b) => b.startsWith(`#${number} resolved`));
    await room.say(`!reopen #${number}`);
    await room.waitFor((b) => b.startsWith(`#${number} reopened`));
    const timeline = bot.store.getByNumber(number)!.timeline.length;
    // Drop the stream: the bot rejoins; the room offers history (delayed) that includes both commands.
    const online = new Promise<void>((resolve) => bot.xmpp.once('online', () => resolve()));
    (bot.xmpp as unknown as { socket: { destroy(): void } }).socket.destroy();
    await online;
    await sleep(1500);
    expect(bot.rooms.isJoined(roomJid)).toBe(true);
    expect(bot.store.getByNumber(number)!.timeline.length).toBe(timeline);
    expect(bot.store.getByNumber(number)!.state).toBe('open');
  });
});
