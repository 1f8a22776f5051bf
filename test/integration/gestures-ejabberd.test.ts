/**
 * Replies and reactions on ejabberd too: with mod_mam and rooms archived (`mam: true`, dev-tools/ejabberd-config.ts)
 * its rooms stamp a XEP-0359 stanza-id on the bot's announcements, which clients reply and react to.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { silentLogger } from '../../src/log.js';
import type { Client, Element } from '../../dev-tools/clients.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfig, observeRoom, type RoomObserver } from '../../dev-tools/room.js';
import { startServer, type XmppServer } from '../../dev-tools/xmpp-server.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'gestures-ej-pw';

let server: XmppServer;
let bot: Bot;
let room: string;
let peer: PeerRecorder;
let alice: Client;
let aliceRoom: RoomObserver;
const stanzaIds = new Map<number, string>();

async function announced(): Promise<{ number: number; id: string; incidentId: string }> {
  const inc = sampleIncident(PEER);
  await peer.sendIodef(`incidents@${HOME}/bot`, 'report', inc);
  const number = bot.store.list().find((s) => s.incident.id === inc.id)!.number;
  await aliceRoom.waitFor((b) => b.startsWith(`#${number} NEW`));
  const id = stanzaIds.get(number);
  expect(id, 'ejabberd stamped the announcement with a stanza-id').toBeDefined();
  return { number, id: id!, incidentId: inc.id };
}

beforeAll(async () => {
  server = await startServer('ejabberd');
  for (const [user, host] of [
    ['incidents', HOME],
    ['alice', HOME],
    ['incidents', PEER],
  ] as const) {
    await server.register(user, host, PASSWORD);
  }
  room = `operators@${server.mucOf(HOME)}`;
  const config = botConfig({
    service: server.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), 'incident-bot-gestures-ej-')), 'incidents.json'),
    defaultRoom: room,
    allow: [`*@${server.mucOf(HOME)}`],
    admins: [`alice@${HOME}`],
    peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
  });
  bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20 });
  peer = recordPeer(await server.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' }));
  alice = await server.client({ username: 'alice', host: HOME, password: PASSWORD });
  alice.on('stanza', (el: Element) => {
    if (!el.is('message') || el.attrs.from !== `${room}/incident-bot`) return;
    const number = /^#(\d+) NEW/.exec(el.getChildText('body') ?? '')?.[1];
    const sid = el.getChildren('stanza-id', 'urn:xmpp:sid:0').find((s) => s.attrs.by === room)?.attrs.id as string | undefined;
    if (number && sid) stanzaIds.set(Number(number), sid);
  });
  aliceRoom = await observeRoom(alice, room, 'alice');
  await aliceRoom.waitForOccupant('incident-bot');
}, 90_000);

afterAll(async () => {
  await bot?.stop();
  await server?.stop();
});

describe('gestures on ejabberd', () => {
  it('a reply `!ack on it` acknowledges the announced incident and the peer gets the revision', async () => {
    const { number, id, incidentId } = await announced();
    await alice.send(
      xml('message', { to: room, type: 'groupchat' }, xml('body', {}, '!ack on it'), xml('reply', { xmlns: 'urn:xmpp:reply:0', to: `${room}/incident-bot`, id })),
    );
    const revision = await peer.waitFor((r) => r.incident.id === incidentId && r.kind === 'report');
    expect(revision.incident.history.find((h) => h.action === 'status-triage')!.texts[0]?.text).toBe('on it');
    expect(bot.store.getByNumber(number)!.state).toBe('acked');
  });

  it('a reaction 👀 by an admin acknowledges the announced incident', async () => {
    const { number, id } = await announced();
    await alice.send(xml('message', { to: room, type: 'groupchat' }, xml('reactions', { xmlns: 'urn:xmpp:reactions:0', id }, xml('reaction', {}, '👀'))));
    await aliceRoom.waitFor((b) => b.startsWith(`#${number} acknowledged`));
    expect(bot.store.getByNumber(number)!.state).toBe('acked');
  });
});
