/**
 * Triage from chat, end to end on a real Prosody: room commands and direct messages become revised reports that
 * reach the peers, in each peer's own format.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { silentLogger } from '../../src/log.js';
import { encodeLegacy } from '../../src/protocol/legacy.js';
import { nextStanza, startProsody, type Client, type Element, type Prosody } from '../../dev-tools/prosody.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfig, observeRoom, type RoomObserver } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'triage-pw';

let prosody: Prosody;
let bot: Bot;
let botJid: string;
let iodefPeer: PeerRecorder; // incidents@peer.localhost/bot: trusted, IODEF
let legacyPeer: PeerRecorder; // legacy@peer.localhost: trusted, legacy
let partner: PeerRecorder; // partner@peer.localhost/bot: trusted, IODEF, never reports (forward target)
let shady: PeerRecorder; // shady@peer.localhost/bot: configured but untrusted
let legacyClient: Client;
let alice: Client; // configured admin
let bob: Client; // a room occupant, not an admin
let aliceRoom: RoomObserver;
let bobRoom: RoomObserver;

async function reportFromIodefPeer(overrides = {}) {
  const inc = sampleIncident(PEER, overrides);
  await iodefPeer.sendIodef(botJid, 'report', inc);
  const number = bot.store.list().find((s) => s.incident.id === inc.id)!.number;
  await aliceRoom.waitFor((b) => b.startsWith(`#${number} NEW`));
  return { inc, number };
}

async function reportFromLegacyPeer() {
  const inc = sampleIncident(PEER);
  await legacyClient.send(xml('message', { to: botJid }, encodeLegacy(inc)));
  await aliceRoom.waitFor((b) => b.includes(inc.id));
  const number = bot.store.list().find((s) => s.incident.id === inc.id)!.number;
  return { inc, number };
}

function dm(from: Client, text: string): Promise<string> {
  const answer = nextStanza(from, (el: Element) => el.is('message') && el.attrs.type === 'chat' && String(el.attrs.from).startsWith(`incidents@${HOME}`), 8_000);
  void from.send(xml('message', { to: botJid, type: 'chat' }, xml('body', {}, text)));
  return answer.then((el) => el.getChildText('body') ?? '');
}

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER] });
  for (const [user, host] of [
    ['incidents', HOME],
    ['alice', HOME],
    ['bob', HOME],
    ['incidents', PEER],
    ['legacy', PEER],
    ['partner', PEER],
    ['shady', PEER],
  ] as const) {
    await prosody.register(user, host, PASSWORD);
  }
  const config = botConfig({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), 'incident-bot-triage-')), 'incidents.json'),
    defaultRoom: `operators@${prosody.mucOf(HOME)}`,
    allow: [`*@${prosody.mucOf(HOME)}`],
    admins: [`alice@${HOME}`],
    peers: [
      { jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' },
      { jid: `legacy@${PEER}`, trust: 'trusted', format: 'legacy' },
      { jid: `partner@${PEER}/bot`, trust: 'trusted', format: 'iodef' },
      { jid: `shady@${PEER}/bot`, trust: 'untrusted', format: 'iodef' },
    ],
  });
  bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20 });
  botJid = `incidents@${HOME}/bot`;
  iodefPeer = recordPeer(await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' }));
  legacyClient = await prosody.client({ username: 'legacy', host: PEER, password: PASSWORD });
  legacyPeer = recordPeer(legacyClient);
  partner = recordPeer(await prosody.client({ username: 'partner', host: PEER, password: PASSWORD, resource: 'bot' }));
  shady = recordPeer(await prosody.client({ username: 'shady', host: PEER, password: PASSWORD, resource: 'bot' }));
  alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD });
  bob = await prosody.client({ username: 'bob', host: HOME, password: PASSWORD });
  aliceRoom = await observeRoom(alice, config.rooms.default, 'alice');
  bobRoom = await observeRoom(bob, config.rooms.default, 'bob');
  await aliceRoom.waitForOccupant('incident-bot');
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await prosody?.stop();
});

describe('room commands become revised reports', () => {
  it('!ack sends the IODEF reporter a report status=updated with a status-triage HistoryItem', async () => {
    const { inc, number } = await reportFromIodefPeer();
    await aliceRoom.say(`!ack #${number} looking into it`);
    const revision = await iodefPeer.waitFor((r) => r.incident.id === inc.id && r.kind === 'report');
    expect(revision.status).toBe('updated');
    const item = revision.incident.history.find((h) => h.action === 'status-triage')!;
    expect(item.who).toBe(`alice@${HOME}`);
    expect(item.texts[0]?.text).toBe('looking into it');
    expect(item.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    await aliceRoom.waitFor((b) => b.startsWith(`#${number} acknowledged`));
    // Ack again: a short, specific answer and no second revision.
    await aliceRoom.say(`!ack ${number}`);
    await aliceRoom.waitFor((b) => b.includes(`#${number} is already acknowledged`));
    expect(iodefPeer.received.filter((r) => r.incident.id === inc.id)).toHaveLength(1);
  });

  it('!ack on a legacy report sends the legacy peer the same incident with the action in its text', async () => {
    const { inc, number } = await reportFromLegacyPeer();
    await aliceRoom.say(`!ack #${number}`);
    const revision = await legacyPeer.waitFor((r) => r.incident.id === inc.id);
    expect(revision.format).toBe('legacy');
    expect(revision.incident.texts[0]?.text).toMatch(new RegExp(`alice@${HOME}: status-triage`));
  });

  it('!solve sends the legacy peer a <solution> with the text and the sources given', async () => {
    const { inc, number } = await reportFromLegacyPeer();
    await aliceRoom.say(`!solve #${number} blocked the spammer at the firewall ip=192.0.2.7:5222 jid=spammer@abuse.lit`);
    const revision = await legacyPeer.waitFor((r) => r.incident.id === inc.id && r.incident.solutions.length > 0);
    const solution = revision.incident.solutions[0]!;
    expect(solution.texts[0]?.text).toBe('blocked the spammer at the firewall');
    const addresses = solution.sources.flatMap((n) => n.addresses);
    expect(addresses).toContainEqual({ kind: 'ip', value: '192.0.2.7', version: 4, port: 5222 });
    expect(addresses).toContainEqual({ kind: 'jid', value: 'spammer@abuse.lit' });
    expect(bot.store.getByNumber(number)!.state).toBe('resolved');
  });

  it('!solve on an IODEF report sends status=resolved with the solution as a block-host HistoryItem', async () => {
    const { inc, number } = await reportFromIodefPeer();
    await aliceRoom.say(`!solve ${number} account disabled jid=spammer@abuse.lit`);
    const revision = await iodefPeer.waitFor((r) => r.incident.id === inc.id && r.status === 'resolved');
    const raw = revision.stanza.toString();
    expect(raw).toContain("action='block-host'".replace(/'/g, '"'));
    expect(raw).toContain('account disabled');
  });

  it('!forward delivers to a trusted peer in its format, and is refused for an untrusted one', async () => {
    const { inc, number } = await reportFromIodefPeer();
    await aliceRoom.say(`!forward #${number} partner@${PEER}/bot`);
    const got = await partner.waitFor((r) => r.incident.id === inc.id);
    expect(got.format).toBe('iodef');
    expect(got.incident.site).toBe(PEER);
    await aliceRoom.say(`!forward #${number} shady@${PEER}/bot`);
    await aliceRoom.waitFor((b) => b.includes('not a trusted peer'));
    expect(shady.received).toHaveLength(0);
    // Later revisions also reach the peer it was forwarded to.
    await aliceRoom.say(`!note #${number} the flood stopped`);
    await partner.waitFor((r) => r.incident.id === inc.id && r.incident.history.some((h) => h.texts[0]?.text === 'the flood stopped'));
  });

  it("refuses a non-admin's !ack and sends nothing", async () => {
    const { inc, number } = await reportFromIodefPeer();
    await bobRoom.say(`!ack #${number}`);
    await aliceRoom.waitFor((b) => b.includes('!ack is for admins only'));
    // A read command from the same non-admin works (so the refusal was about permission, not a dead bot).
    await bobRoom.say(`!show #${number}`);
    await bobRoom.waitFor((b) => b.includes(inc.id) && b.includes('Timeline'));
    expect(bot.store.getByNumber(number)!.state).toBe('open');
    expect(iodefPeer.received.filter((r) => r.incident.id === inc.id)).toHaveLength(0);
  });

  it('!report originates an incident and sends it to every trusted peer in its format', async () => {
    await aliceRoom.say('!report 2 reg/mass-registration 500 accounts registered from one address src=203.0.113.9 loc=home.localhost');
    const line = await aliceRoom.waitFor((b) => /^#\d+ reported/.test(b));
    const number = Number(/^#(\d+)/.exec(line)![1]);
    const id = bot.store.getByNumber(number)!.incident.id;
    for (const peer of [iodefPeer, partner]) {
      const got = await peer.waitFor((r) => r.incident.id === id);
      expect(got.format).toBe('iodef');
      expect(got.incident.site).toBe(HOME);
      expect(got.incident.category).toBe('reg');
      expect(got.incident.types).toEqual(['mass-registration']);
    }
    const legacy = await legacyPeer.waitFor((r) => r.incident.id === id);
    expect(legacy.format).toBe('legacy');
    expect(shady.received.some((r) => r.incident.id === id)).toBe(false);
  });

  it('answers a bad command with its usage line and ignores unknown !words', async () => {
    await aliceRoom.say('!severity #1 11');
    await aliceRoom.waitFor((b) => b.includes('Usage: !severity <ref> <1-5>'));
    const before = aliceRoom.messages.length;
    await aliceRoom.say('!dance');
    await aliceRoom.say('!help');
    await aliceRoom.waitFor((b) => b.startsWith('Commands you can run here'));
    expect(aliceRoom.messages.slice(before).some((m) => m.nick === 'incident-bot' && m.body.includes('dance'))).toBe(false);
  });
});

describe('direct messages', () => {
  it('answers show, search and export for an admin', async () => {
    const { inc, number } = await reportFromIodefPeer({ sources: [{ addresses: [{ kind: 'ip', value: '198.51.100.77', version: 4 }], counters: [], roles: [] }] });
    expect(await dm(alice, `show #${number}`)).toContain(inc.id);
    expect(await dm(alice, '!search 198.51.100.77')).toContain(`#${number}`);
    const exported = await dm(alice, `export #${number} iodef`);
    expect(exported).toContain('urn:xmpp:incident:2');
    expect(exported).toContain(inc.id);
  });

  it('refuses a non-admin in one line', async () => {
    const answer = await dm(bob, 'list');
    expect(answer).toMatch(/only the administrators/);
    expect(answer.split('\n')).toHaveLength(1);
  });
});

describe('who is an admin', () => {
  it('never honours a nick that impersonates an admin', async () => {
    const { number } = await reportFromIodefPeer();
    // bob joins again under alice's nick in another room; in the operators room he takes the nick "alice-admin".
    const mallory = await prosody.client({ username: 'bob', host: HOME, password: PASSWORD, resource: 'mallory' });
    const malloryRoom = await observeRoom(mallory, `operators@${prosody.mucOf(HOME)}`, 'alice (admin)');
    await malloryRoom.say(`!ack #${number}`);
    await aliceRoom.waitFor((b) => b.includes('!ack is for admins only'));
    expect(bot.store.getByNumber(number)!.state).toBe('open');
  });

  it('refuses admin commands in a room that hides real JIDs, and says why', async () => {
    // alice creates a semi-anonymous room (Prosody's default: only moderators see JIDs); the bot joins as a participant.
    const hidden = `hidden@${prosody.mucOf(HOME)}`;
    const owner = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'hidden-owner' });
    const room = await observeRoom(owner, hidden, 'alice');
    const inc = sampleIncident(PEER, { room: hidden });
    await iodefPeer.sendIodef(botJid, 'report', inc);
    await room.waitFor((b) => b.includes(inc.id));
    const number = bot.store.list().find((s) => s.incident.id === inc.id)!.number;
    await room.say(`!ack #${number}`);
    await room.waitFor((b) => b.includes('cannot see your real JID'));
    expect(bot.store.getByNumber(number)!.state).toBe('open');
  });
});
