/**
 * XMPP-native triage on a real Prosody with muc_mam (room messages carry a XEP-0359 stanza-id by the room): replies
 * (XEP-0461) and reactions (XEP-0444) to announcements, and ad-hoc command forms (XEP-0050/XEP-0004). The gestures
 * and forms are hand-written stanzas, as a client such as Conversations, Gajim or Dino sends them.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { silentLogger } from '../../src/log.js';
import { nextStanza, startProsody, type Client, type Element, type Prosody } from '../../dev-tools/prosody.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfig, observeRoom, type RoomObserver } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'gestures-pw';
const COMMANDS = 'http://jabber.org/protocol/commands';
const DATA = 'jabber:x:data';

let prosody: Prosody;
let bot: Bot;
let botJid: string;
let room: string;
let peer: PeerRecorder;
let alice: Client; // configured admin
let bob: Client; // an occupant who is not an admin
let aliceRoom: RoomObserver;
/** Announcement stanzas as alice's client sees them: #N → the stanza-id the room gave it. */
const announcementIds = new Map<number, string>();

async function announced(): Promise<{ number: number; id: string; incidentId: string }> {
  const inc = sampleIncident(PEER);
  await peer.sendIodef(botJid, 'report', inc);
  const number = bot.store.list().find((s) => s.incident.id === inc.id)!.number;
  await aliceRoom.waitFor((b) => b.startsWith(`#${number} NEW`));
  const id = announcementIds.get(number);
  expect(id, 'the room stamped the announcement with a stanza-id').toBeDefined();
  return { number, id: id!, incidentId: inc.id };
}

/** A message bob can see from the bot privately, through the room. */
function privateFromBot(client: Client): Promise<Element> {
  return nextStanza(client, (el) => el.is('message') && el.attrs.type === 'chat' && el.attrs.from === `${room}/incident-bot`, 8_000);
}

function react(client: Client, id: string, ...emojis: string[]) {
  return client.send(
    xml(
      'message',
      { to: room, type: 'groupchat' },
      xml('reactions', { xmlns: 'urn:xmpp:reactions:0', id }, ...emojis.map((e) => xml('reaction', {}, e))),
      xml('store', { xmlns: 'urn:xmpp:hints' }),
    ),
  );
}

function replyTo(client: Client, id: string, quoted: string, text: string) {
  const quote = `> ${quoted}\n`;
  return client.send(
    xml(
      'message',
      { to: room, type: 'groupchat' },
      xml('body', {}, `${quote}${text}`),
      xml('reply', { xmlns: 'urn:xmpp:reply:0', to: `${room}/incident-bot`, id }),
      xml('fallback', { xmlns: 'urn:xmpp:fallback:0', for: 'urn:xmpp:reply:0' }, xml('body', { start: '0', end: String([...quote].length) })),
    ),
  );
}

/** A later command whose answer proves the bot has handled what was sent before it (stanzas are handled in order). */
async function settled(number: number): Promise<void> {
  const marker = aliceRoom.messages.length;
  await aliceRoom.say(`!show #${number}`);
  await aliceRoom.waitFor((b) => b.startsWith(`#${number} `) && aliceRoom.messages.findIndex((m) => m.body === b) >= marker);
}

function command(from: Client, attrs: Record<string, string>, ...children: Element[]): Promise<Element> {
  return from.iqCaller.request(xml('iq', { type: 'set', to: botJid }, xml('command', { xmlns: COMMANDS, ...attrs }, ...children)));
}

function submit(fields: Record<string, string[]>): Element {
  return xml('x', { xmlns: DATA, type: 'submit' }, ...Object.entries(fields).map(([v, values]) => xml('field', { var: v }, ...values.map((x) => xml('value', {}, x)))));
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
  room = `operators@${prosody.mucOf(HOME)}`;
  const config = botConfig({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), 'incident-bot-gestures-')), 'incidents.json'),
    defaultRoom: room,
    allow: [`*@${prosody.mucOf(HOME)}`],
    admins: [`alice@${HOME}`],
    peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
  });
  bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20 });
  botJid = `incidents@${HOME}/bot`;
  peer = recordPeer(await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' }));
  alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD });
  bob = await prosody.client({ username: 'bob', host: HOME, password: PASSWORD });
  alice.on('stanza', (el: Element) => {
    if (!el.is('message') || el.attrs.type !== 'groupchat' || el.attrs.from !== `${room}/incident-bot`) return;
    const number = /^#(\d+) NEW/.exec(el.getChildText('body') ?? '')?.[1];
    const sid = el.getChildren('stanza-id', 'urn:xmpp:sid:0').find((s) => s.attrs.by === room)?.attrs.id as string | undefined;
    if (number && sid) announcementIds.set(Number(number), sid);
  });
  aliceRoom = await observeRoom(alice, room, 'alice');
  await observeRoom(bob, room, 'bob');
  await aliceRoom.waitForOccupant('incident-bot');
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await prosody?.stop();
});

describe('replies to an announcement (XEP-0461)', () => {
  it('`!ack on it` in reply acknowledges that incident and sends the peer the revision', async () => {
    const { number, id, incidentId } = await announced();
    await replyTo(alice, id, `#${number} NEW`, '!ack on it');
    const revision = await peer.waitFor((r) => r.incident.id === incidentId && r.kind === 'report');
    expect(revision.status).toBe('updated');
    const item = revision.incident.history.find((h) => h.action === 'status-triage')!;
    expect(item.who).toBe(`alice@${HOME}`);
    expect(item.texts[0]?.text).toBe('on it');
    await aliceRoom.waitFor((b) => b.startsWith(`#${number} acknowledged`));
    expect(bot.store.getByNumber(number)!.state).toBe('acked');
  });

  it('`!solve …` in reply resolves that incident with the text and the sources', async () => {
    const { number, id } = await announced();
    await replyTo(alice, id, `#${number} NEW`, '!solve blocked at the firewall ip=192.0.2.1');
    await aliceRoom.waitFor((b) => b.startsWith(`#${number} resolved`));
    expect(bot.store.getByNumber(number)!.state).toBe('resolved');
  });

  it('from someone who may not act: refused privately, nothing changes', async () => {
    const { number, id } = await announced();
    const refusal = privateFromBot(bob);
    await replyTo(bob, id, `#${number} NEW`, '!ack mine');
    expect((await refusal).getChildText('body')).toBe('!ack is for admins only.');
    await settled(number);
    expect(bot.store.getByNumber(number)!.state).toBe('open');
    expect(aliceRoom.messages.some((m) => m.body.includes('admins only'))).toBe(false);
  });
});

describe('reactions to an announcement (XEP-0444)', () => {
  it('👀 by an admin acknowledges it and sends the revision', async () => {
    const { number, id, incidentId } = await announced();
    await react(alice, id, '👀');
    const revision = await peer.waitFor((r) => r.incident.id === incidentId && r.kind === 'report');
    expect(revision.status).toBe('updated');
    await aliceRoom.waitFor((b) => b.startsWith(`#${number} acknowledged`));
    expect(bot.store.getByNumber(number)!.state).toBe('acked');
  });

  it('👀 by a non-admin does nothing but tell them privately', async () => {
    const { number, id, incidentId } = await announced();
    const refusal = privateFromBot(bob);
    await react(bob, id, '👀');
    expect((await refusal).getChildText('body')).toBe('!ack is for admins only.');
    await settled(number);
    expect(bot.store.getByNumber(number)!.state).toBe('open');
    expect(peer.received.filter((r) => r.incident.id === incidentId)).toHaveLength(0);
  });

  it('any other reaction does nothing', async () => {
    const { number, id } = await announced();
    await react(alice, id, '👍', '🎉');
    await settled(number);
    expect(bot.store.getByNumber(number)!.state).toBe('open');
  });

  it('👀 on a message that is not an announcement does nothing', async () => {
    const { number } = await announced();
    // alice's own line, with the stanza-id the room gave it.
    const echo = nextStanza(alice, (el) => el.is('message') && el.attrs.from === `${room}/alice` && el.getChildText('body') === 'just chatting', 8_000);
    await aliceRoom.say('just chatting');
    const sid = (await echo).getChildren('stanza-id', 'urn:xmpp:sid:0').find((s) => s.attrs.by === room)!.attrs.id as string;
    await react(alice, sid, '👀');
    await react(alice, 'no-such-message', '👀');
    await settled(number);
    expect(bot.store.getByNumber(number)!.state).toBe('open');
    expect(bot.store.list().filter((s) => s.state === 'acked').map((s) => s.number)).not.toContain(number);
  });
});

describe('ad-hoc commands (XEP-0050)', () => {
  it('disco: the commands node lists ack, solve, report, forward and block; disco#info advertises the protocol', async () => {
    const info = await alice.iqCaller.request(xml('iq', { type: 'get', to: botJid }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    expect(info.getChild('query')!.getChildren('feature').map((f: Element) => f.attrs.var)).toContain(COMMANDS);
    const items = await alice.iqCaller.request(xml('iq', { type: 'get', to: botJid }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node: COMMANDS })));
    const listed: Element[] = items.getChild('query')!.getChildren('item');
    expect(listed.map((i) => i.attrs.node)).toEqual(['ack', 'solve', 'report', 'forward', 'block']);
    expect(listed.every((i) => i.attrs.jid === botJid && typeof i.attrs.name === 'string')).toBe(true);
    // Someone who may not command the bot is offered nothing.
    const bobItems = await bob.iqCaller.request(xml('iq', { type: 'get', to: botJid }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node: COMMANDS })));
    expect(bobItems.getChild('query')!.getChildren('item')).toHaveLength(0);
  });

  it('execute → form listing the open incidents → complete acknowledges the one chosen and sends the revision', async () => {
    const { number, incidentId } = await announced();
    const first = await command(alice, { node: 'ack', action: 'execute' });
    const cmd = first.getChild('command', COMMANDS)!;
    expect(cmd.attrs.status).toBe('executing');
    const sessionid = cmd.attrs.sessionid as string;
    expect(cmd.getChild('actions')!.getChild('complete')).toBeDefined();
    const field = cmd.getChild('x', DATA)!.getChildren('field').find((f) => f.attrs.var === 'incident')!;
    expect(field.attrs.type).toBe('list-multi');
    expect(field.getChildren('option').map((o) => o.getChildText('value'))).toContain(String(number));

    const done = await command(alice, { node: 'ack', action: 'complete', sessionid }, submit({ incident: [String(number)], note: ['from the form'] }));
    const result = done.getChild('command', COMMANDS)!;
    expect(result.attrs.status).toBe('completed');
    expect(result.getChildText('note')).toMatch(new RegExp(`^#${number} acknowledged`));
    const revision = await peer.waitFor((r) => r.incident.id === incidentId && r.kind === 'report');
    expect(revision.incident.history.find((h) => h.action === 'status-triage')!.texts[0]?.text).toBe('from the form');
    expect(bot.store.getByNumber(number)!.state).toBe('acked');
  });

  it('a bad value gets the form back with the error; then cancel ends the session', async () => {
    const first = await command(alice, { node: 'ack', action: 'execute' });
    const sessionid = first.getChild('command', COMMANDS)!.attrs.sessionid as string;
    const again = await command(alice, { node: 'ack', action: 'complete', sessionid }, submit({ incident: ['99999'] }));
    const cmd = again.getChild('command', COMMANDS)!;
    expect(cmd.attrs.status).toBe('executing');
    expect(cmd.getChild('note')!.attrs.type).toBe('error');
    expect(cmd.getChildText('note')).toContain("'99999' is not an incident I know");
    expect(cmd.getChild('x', DATA)!.attrs.type).toBe('form');
    const canceled = await command(alice, { node: 'ack', action: 'cancel', sessionid });
    expect(canceled.getChild('command', COMMANDS)!.attrs.status).toBe('canceled');
    // The session is gone.
    await expect(command(alice, { node: 'ack', action: 'complete', sessionid }, submit({ incident: ['1'] }))).rejects.toMatchObject({ condition: 'bad-request' });
  });

  it('someone who may not act gets the same refusal as a direct message, as forbidden; an unknown node item-not-found', async () => {
    const refused = await command(bob, { node: 'ack', action: 'execute' }).catch((err: { condition: string; text?: string }) => err);
    expect(refused).toMatchObject({ condition: 'forbidden', text: 'Sorry, only the administrators of this incident bot can talk to it.' });
    await expect(command(alice, { node: 'nope', action: 'execute' })).rejects.toMatchObject({ condition: 'item-not-found' });
  });

  it('report a new incident from the form', async () => {
    const first = await command(alice, { node: 'report' });
    const sessionid = first.getChild('command', COMMANDS)!.attrs.sessionid as string;
    const done = await command(alice, { node: 'report', action: 'complete', sessionid }, submit({ severity: ['2'], category: ['muc/presence'], text: ['presence flood'], src: ['203.0.113.7'] }));
    const note = done.getChild('command', COMMANDS)!.getChildText('note') ?? '';
    expect(note).toMatch(/^#\d+ reported .* sent to 1 trusted peer/);
    const number = Number(/^#(\d+)/.exec(note)![1]);
    expect(bot.store.getByNumber(number)!.incident.category).toBe('muc/presence'.split('/')[0]);
  });
});
