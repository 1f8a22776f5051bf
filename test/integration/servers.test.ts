/**
 * The main scenario, written once and run on both real servers (dev-tools/xmpp-server.ts): Prosody 0.12 and
 * ejabberd 23.01, each with two hosts standing in for two deployments and a MUC service on each.
 *
 * report → acknowledged → announced → `!ack` → revision delivered to the peer; a non-admin refused; a legacy
 * report and its revision; a DM command; the bot restarted on its store; the server restarted under the bot, which
 * is back in its room at once (no join left waiting on the dropped stream) and announces again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import type { Config } from '../../src/core/config.js';
import { encodeLegacy } from '../../src/protocol/legacy.js';
import { nextStanza, until, type Client, type Element } from '../../dev-tools/clients.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfig, observeRoom, type RoomObserver } from '../../dev-tools/room.js';
import { SERVER_KINDS, startServer, type XmppServer } from '../../dev-tools/xmpp-server.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'both-servers-pw';

/** A logger keeping every event, to assert on what the bot logged. */
function recordingLogger() {
  const events: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void events.push(JSON.parse(line)) });
  return { log, events };
}

describe.each(SERVER_KINDS)('the main scenario on %s', (kind) => {
  let server: XmppServer;
  let dir: string;
  let config: Config;
  let bot: Bot;
  let logged: ReturnType<typeof recordingLogger>;
  let reporter: PeerRecorder; // incidents@peer.localhost/bot: trusted, IODEF
  let legacyClient: Client;
  let legacy: PeerRecorder; // legacy@peer.localhost: trusted, legacy
  let alice: Client; // configured admin
  let aliceRoom: RoomObserver;
  let bobRoom: RoomObserver; // an occupant, not an admin
  const botJid = `incidents@${HOME}/bot`;

  /** Reports a fresh incident from the IODEF peer; resolves with it and its #N once announced. */
  async function reported(room: RoomObserver = aliceRoom) {
    const inc = sampleIncident(PEER);
    const result = await reporter.sendIodef(botJid, 'report', inc);
    expect(result.attrs.type).toBe('result');
    const line = await room.waitFor((b) => b.includes(inc.id) && / NEW /.test(b), 10_000, `the announcement of ${inc.id}`);
    return { inc, number: Number(/^#(\d+) /.exec(line)![1]), line };
  }

  async function startTheBot(): Promise<Bot> {
    logged = recordingLogger();
    return startBot(config, { log: logged.log, roomIntervalMs: 20 });
  }

  beforeAll(async () => {
    server = await startServer(kind);
    for (const [user, host] of [['incidents', HOME], ['alice', HOME], ['bob', HOME], ['incidents', PEER], ['legacy', PEER]] as const) {
      await server.register(user, host, PASSWORD);
    }
    dir = await mkdtemp(join(tmpdir(), `incident-bot-${kind}-`));
    config = botConfig({
      service: server.service,
      domain: HOME,
      username: 'incidents',
      password: PASSWORD,
      storagePath: join(dir, 'incidents.json'),
      defaultRoom: `operators@${server.mucOf(HOME)}`,
      // Written as the server will not say them back: ß (nodeprep folds it to ss) and NFD.
      operators: [`Nacht-Straße@${server.mucOf(HOME)}`, `cafe\u0301@${server.mucOf(HOME)}`],
      admins: [`alice@${HOME}`],
      peers: [
        { jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' },
        { jid: `legacy@${PEER}`, trust: 'trusted', format: 'legacy' },
      ],
    });
    bot = await startTheBot();
    reporter = recordPeer(await server.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' }));
    legacyClient = await server.client({ username: 'legacy', host: PEER, password: PASSWORD });
    legacy = recordPeer(legacyClient);
    alice = await server.client({ username: 'alice', host: HOME, password: PASSWORD });
    aliceRoom = await observeRoom(alice, config.rooms.default, 'alice');
    bobRoom = await observeRoom(await server.client({ username: 'bob', host: HOME, password: PASSWORD }), config.rooms.default, 'bob');
    await aliceRoom.waitForOccupant('incident-bot');
  }, 60_000);

  afterAll(async () => {
    await bot?.stop();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('acknowledges an IODEF report, announces it, and sends the peer the revision an admin\'s !ack makes', async () => {
    expect(logged.events.find((e) => e.msg === 'bot started')).toMatchObject({ roomJoined: true });
    const { inc, number, line } = await reported();
    expect(line).toContain(`#${number} NEW`);
    expect(line).toContain(`incidents@${PEER}/bot`);
    await aliceRoom.say(`!ack #${number} on it`);
    const revision = await reporter.waitFor((r) => r.incident.id === inc.id && r.kind === 'report');
    expect(revision.status).toBe('updated');
    expect(revision.incident.history.find((h) => h.action === 'status-triage')?.who).toBe(`alice@${HOME}`);
    await aliceRoom.waitFor((b) => b.startsWith(`#${number} acknowledged`));
  });

  it('joins operators rooms written in other forms than the server prepares, and knows it is in (JID preparation)', async () => {
    const muc = server.mucOf(HOME);
    await until(() => bot.rooms.isJoined(`nacht-strasse@${muc}`) && bot.rooms.isJoined(`caf\u00e9@${muc}`), 10_000, 'the bot confirmed in both');
  });

  it("refuses a non-admin's !ack in the room and sends nothing", async () => {
    const { inc, number } = await reported();
    await bobRoom.say(`!ack #${number}`);
    await bobRoom.waitFor((b) => b.includes('!ack is for admins only'));
    expect(reporter.received.filter((r) => r.incident.id === inc.id)).toHaveLength(0);
  });

  it('announces a legacy <message> report and sends the legacy peer its revision in the legacy format', async () => {
    const inc = sampleIncident(PEER);
    await legacyClient.send(xml('message', { to: `incidents@${HOME}` }, encodeLegacy(inc)));
    const line = await aliceRoom.waitFor((b) => b.includes(inc.id));
    expect(line).toContain(`legacy@${PEER}`);
    const number = Number(/^#(\d+) /.exec(line)![1]);
    await aliceRoom.say(`!ack #${number}`);
    const revision = await legacy.waitFor((r) => r.incident.id === inc.id);
    expect(revision.format).toBe('legacy');
    expect(revision.incident.texts[0]?.text).toMatch(new RegExp(`alice@${HOME}: status-triage`));
  });

  it('answers an admin\'s direct message command', async () => {
    const { inc, number } = await reported();
    const answer = nextStanza(alice, (el: Element) => el.is('message') && el.attrs.type === 'chat' && String(el.attrs.from).startsWith(`incidents@${HOME}`), 8_000);
    await alice.send(xml('message', { to: botJid, type: 'chat' }, xml('body', {}, `show #${number}`)));
    const body = (await answer).getChildText('body') ?? '';
    expect(body).toContain(inc.id);
    expect(body).toContain('Timeline');
  });

  it('restarted on the same store, is back in its room, knows its incidents, and announces new ones', async () => {
    const { inc, number } = await reported();
    await bot.stop();
    bot = await startTheBot();
    await until(() => bot.rooms.isJoined(config.rooms.default), 10_000, 'the bot back in its room');
    expect(bot.store.getByNumber(number)?.incident.id).toBe(inc.id);
    await reported();
  });

  it('after the server restarts under it, is back in its room without a join timing out, and announces again', async () => {
    const room = config.rooms.default;
    const from = logged.events.length;
    const online = new Promise<void>((resolve) => bot.xmpp.once('online', () => resolve()));
    await server.restart();
    await online;
    // Temporary rooms are gone with the server: an admin comes back to the room, and finds the bot there.
    const aliceAgain = await server.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'after-restart' });
    const again = await observeRoom(aliceAgain, room, 'alice-again');
    await again.waitForOccupant(config.nick, 8_000);
    // (alice may see the bot's presence a moment before the bot has read its own)
    await until(() => bot.rooms.isJoined(room), 2_000, 'the bot to know it is in its room');
    // A join sent on a stream that dropped used to be waited for until it timed out (10 s, "join failed").
    const since = logged.events.slice(from);
    expect(since.filter((e) => /join failed|cannot join/.test(e.msg)).map((e) => `${e.msg}: ${String(e.err)}`)).toEqual([]);
    await reported(again);
  }, 45_000);
});
