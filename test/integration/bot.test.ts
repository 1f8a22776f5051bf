/**
 * The bot's main job, end to end on a real Prosody: two VirtualHosts stand in for two deployments
 * (home.localhost runs the bot, peer.localhost hosts the peers), each with a MUC service.
 */
import { mkdtemp } from 'node:fs/promises';
import { readStoreContents } from '../../src/core/store-reader.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import xml from '@xmpp/xml';
import { describeIncident } from '../../commands/show.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { silentLogger } from '../../src/log.js';
import { emptyIncident, type Incident, type IodefKind } from '../../src/protocol/incident.js';
import { encodeIodef, INCIDENT_NS } from '../../src/protocol/iodef.js';
import { encodeLegacy } from '../../src/protocol/legacy.js';
import { nextStanza, startProsody, type Client, type Prosody } from '../../dev-tools/prosody.js';
import { sampleIncident } from '../../dev-tools/peers.js';
import { botConfig, observeRoom, type RoomObserver } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 's3cret-pw';

let prosody: Prosody;
let bot: Bot;
let storagePath: string;
let trustedPeer: Client; // incidents@peer.localhost/bot — trusted, iodef
let legacyPeer: Client; // legacy@peer.localhost — trusted, legacy
let stranger: Client; // stranger@peer.localhost — not on the trust list
let alice: Client; // admin of home.localhost, watching the operators room
let operators: RoomObserver;
let botJid: string;
let config: ReturnType<typeof botConfig>;

const incident = (overrides: Partial<Incident> = {}): Incident => sampleIncident(PEER, overrides);

async function sendIodef(from: Client, kind: IodefKind, inc: Incident, type: 'get' | 'set' = kind === 'report' || kind === 'response' ? 'set' : 'get') {
  return from.iqCaller.request(xml('iq', { type, to: botJid }, encodeIodef(kind, inc)), 10_000);
}

function iqError(err: unknown): { condition?: string; text?: string } {
  const e = err as { condition?: string; text?: string; element?: { getChildText(n: string, ns?: string): string | null } };
  return { condition: e.condition, text: e.text ?? e.element?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas') ?? undefined };
}

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER] });
  for (const [user, host] of [
    ['incidents', HOME],
    ['alice', HOME],
    ['incidents', PEER],
    ['legacy', PEER],
    ['stranger', PEER],
  ] as const) {
    await prosody.register(user, host, PASSWORD);
  }
  storagePath = join(await mkdtemp(join(tmpdir(), 'incident-bot-store-')), 'incidents.json');
  config = botConfig({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath,
    defaultRoom: `operators@${prosody.mucOf(HOME)}`,
    allow: [`*@${prosody.mucOf(HOME)}`],
    admins: [`alice@${HOME}`],
    peers: [
      { jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' },
      { jid: `legacy@${PEER}`, trust: 'trusted', format: 'legacy' },
    ],
  });
  bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20 });
  botJid = `incidents@${HOME}/bot`;
  trustedPeer = await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' });
  legacyPeer = await prosody.client({ username: 'legacy', host: PEER, password: PASSWORD });
  stranger = await prosody.client({ username: 'stranger', host: PEER, password: PASSWORD });
  alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD });
  operators = await observeRoom(alice, config.rooms.default, 'alice');
  await operators.waitForOccupant('incident-bot');
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await prosody?.stop();
});

describe('receiving reports', () => {
  it('answers disco#info on its full JID with both incident namespaces', async () => {
    const reply = await trustedPeer.iqCaller.request(
      xml('iq', { type: 'get', to: botJid }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    );
    const features = reply.getChild('query')!.getChildren('feature').map((f: { attrs: { var: string } }) => f.attrs.var);
    expect(features).toContain('urn:xmpp:incident:0');
    expect(features).toContain('urn:xmpp:incident:2');
  });

  it('acknowledges an IODEF report only once it is in the store file, then announces it', async () => {
    const inc = incident();
    const result = await sendIodef(trustedPeer, 'report', inc);
    expect(result).toBeDefined();
    // The IQ result has arrived: the store's files must already hold the report.
    const onDisk = await readStoreContents(storagePath);
    expect(onDisk.incidents.map((i) => i.incident.id)).toContain(inc.id);
    const stored = bot.store.list().find((s) => s.incident.id === inc.id)!;
    const line = await operators.waitFor((b) => b.includes(`#${stored.number} NEW`));
    expect(line).toContain('severity 2 (high)');
    expect(line).toContain('muc: presence');
    expect(line).toContain(`incidents@${PEER}/bot`);
    expect(line).toContain(`admin admin@${PEER}`);
    expect(line).toContain('spammer@abuse.lit');
    expect(line).toContain('MUC flood from abuse.lit');
    expect(line).toContain('began 2026-11-27T10:00:00Z');
    expect(line).not.toContain('UNTRUSTED');
  });

  it('treats a re-sent identical report as nothing new, and a changed one as an update of the same #N', async () => {
    const inc = incident();
    await sendIodef(trustedPeer, 'report', inc);
    const number = bot.store.list().find((s) => s.incident.id === inc.id)!.number;
    await operators.waitFor((b) => b.includes(`#${number} NEW`));
    const sizeBefore = bot.store.size;
    await sendIodef(trustedPeer, 'report', inc);
    await sendIodef(trustedPeer, 'report', { ...inc, status: 'updated', texts: [{ lang: 'en', text: 'now also registration spam' }] });
    expect(bot.store.size).toBe(sizeBefore);
    const update = await operators.waitFor((b) => b.startsWith(`#${number} updated`));
    // One line saying what changed (issue 15 §5), not the whole incident again.
    expect(update).toBe(`#${number} updated by ${PEER}: text “now also registration spam” — !show #${number}`);
    // Exactly one NEW and one update line for this incident: the identical re-send announced nothing.
    const lines = operators.messages.filter((m) => m.body.startsWith(`#${number} `));
    expect(lines.map((m) => m.body.split(' ')[1])).toEqual(['NEW', 'updated']);
    const stored = bot.store.getByNumber(number)!;
    expect(stored.versions).toHaveLength(2);
    expect(stored.timeline.map((t) => t.action)).toEqual(['reported', 'updated by peer']);
  });

  it('accepts a legacy <message> incident on the full JID and on the bare JID', async () => {
    const full = incident({ room: undefined });
    await legacyPeer.send(xml('message', { to: botJid }, encodeLegacy(full)));
    const first = await operators.waitFor((b) => b.includes(full.id));
    expect(first).toContain('NEW');
    expect(first).toContain(`legacy@${PEER}`);
    const bare = incident();
    await legacyPeer.send(xml('message', { to: `incidents@${HOME}` }, encodeLegacy(bare)));
    await operators.waitFor((b) => b.includes(bare.id));
    const stored = bot.store.list().find((s) => s.incident.id === bare.id)!;
    expect(stored.format).toBe('legacy');
    expect(stored.incident.site).toBe(PEER);
  });

  it('flags a report from a sender not on the trust list as UNTRUSTED', async () => {
    const inc = incident();
    await sendIodef(stranger, 'report', inc);
    const line = await operators.waitFor((b) => b.includes(inc.id));
    expect(line).toContain('UNTRUSTED');
    expect(bot.store.list().find((s) => s.incident.id === inc.id)!.trusted).toBe(false);
  });

  it('trusts the stanza from, not what the payload claims', async () => {
    // The stranger claims to be the trusted peer in the payload: still untrusted.
    const inc = incident({ site: PEER, admins: [`incidents@${PEER}`] });
    await sendIodef(stranger, 'report', inc);
    const line = await operators.waitFor((b) => b.includes(inc.id));
    expect(line).toContain('UNTRUSTED');
  });

  it('answers a report it cannot identify with bad-request and a text saying what is wrong', async () => {
    const bad = xml(
      'report',
      { xmlns: INCIDENT_NS, status: 'new' },
      xml('Incident', { xmlns: 'urn:ietf:params:xml:ns:iodef-1.0', purpose: 'reporting' }, xml('IncidentID', { name: PEER }, ''), xml('StartTime', {}, 'yesterday')),
    );
    const err = await trustedPeer.iqCaller.request(xml('iq', { type: 'set', to: botJid }, bad)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(iqError(err).condition).toBe('bad-request');
    expect(iqError(err).text).toMatch(/IncidentID is empty/);
  });

  it('accepts an odd but identifiable report and keeps what was odd as intake notes, shown by show', async () => {
    const odd = xml(
      'report',
      { xmlns: INCIDENT_NS },
      xml(
        'Incident',
        { xmlns: 'urn:ietf:params:xml:ns:iodef-1.0' },
        xml('IncidentID', { name: PEER }, 'odd-1'),
        xml('StartTime', {}, 'yesterday'),
        xml('Assessment', {}, xml('Impact', { severity: 'high', type: 'ext-value' })),
      ),
    );
    const reply = await trustedPeer.iqCaller.request(xml('iq', { type: 'set', to: botJid }, odd));
    expect(reply.attrs.type).toBe('result');
    const stored = bot.store.list().find((s) => s.incident.id === 'odd-1')!;
    expect(stored.intakeNotes).toEqual([
      "Incident/StartTime: 'yesterday' is not an XEP-0082 DateTime (CCYY-MM-DDThh:mm:ss[.sss]TZD): kept here as text, not used",
      "Incident/Assessment/Impact: type='ext-value' without ext-type",
    ]);
    expect(stored.incident.times.begin).toBeUndefined();
    const shown = describeIncident(stored, () => undefined);
    expect(shown).toContain('Intake notes (odd but accepted, 2):');
    expect(shown).toContain("type='ext-value' without ext-type");
  });

  it('joins the allowed room a report names and announces there', async () => {
    const raid = `raid@${prosody.mucOf(HOME)}`;
    const inc = incident({ room: raid });
    await sendIodef(trustedPeer, 'report', inc);
    const watcher = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'raid-watch' });
    // The bot may have created the room already: join and wait for its announcement to arrive live or be re-sent.
    const room = await observeRoom(watcher, raid, 'alice-raid');
    await room.waitForOccupant('incident-bot');
    const inc2 = incident({ room: raid });
    await sendIodef(trustedPeer, 'report', inc2);
    await room.waitFor((b) => b.includes(inc2.id));
    expect(operators.messages.some((m) => m.body.includes(inc2.id))).toBe(false);
  });

  it('does not join a room outside rooms.allow and says so in the default room', async () => {
    const elsewhere = `secret@${prosody.mucOf(PEER)}`;
    const inc = incident({ room: elsewhere });
    await sendIodef(trustedPeer, 'report', inc);
    const line = await operators.waitFor((b) => b.includes(inc.id));
    expect(line).toContain(`names room ${elsewhere}`);
    expect(bot.rooms.list()).not.toContain(elsewhere);
  });

  it('answers an inquiry about a known incident with a result and then a report IQ; unknown → item-not-found', async () => {
    const inc = incident();
    await sendIodef(trustedPeer, 'report', inc);
    const report = nextStanza(trustedPeer, (el) => el.is('iq') && el.attrs.type === 'set' && !!el.getChild('report', INCIDENT_NS), 8_000);
    trustedPeer.iqCallee.set(INCIDENT_NS, 'report', () => true);
    await sendIodef(trustedPeer, 'inquiry', { ...emptyIncident(inc.id), site: PEER });
    const got = await report;
    expect(got.toString()).toContain(inc.id);
    const err = await sendIodef(trustedPeer, 'inquiry', { ...emptyIncident(randomUUID()), site: PEER }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(iqError(err).condition).toBe('item-not-found');
  });

  it('stores a request for assistance with its expected action, and attaches a response', async () => {
    const inc = incident({ expectation: { action: 'block-host', texts: [] } });
    await sendIodef(trustedPeer, 'request', inc);
    const line = await operators.waitFor((b) => b.includes(inc.id) && b.includes('REQUEST'));
    expect(line).toContain('block-host');
    const stored = bot.store.list().find((s) => s.incident.id === inc.id)!;
    expect(stored.requests[0]?.action).toBe('block-host');
    await sendIodef(trustedPeer, 'response', {
      ...inc,
      history: [{ action: 'block-host', time: '2026-11-27T11:00:00Z', texts: [{ text: 'Account disabled' }] }],
    });
    await operators.waitFor((b) => b.includes(inc.id) && b.includes('RESPONSE') && b.includes('Account disabled'));
    const both = bot.store.list().filter((s) => s.incident.id === inc.id);
    expect(both).toHaveLength(1);
    // What the store returns is a snapshot of the record: read it again after the response.
    expect(both[0]!.responses).toHaveLength(1);
    expect(both[0]!.number).toBe(stored.number);
  });
});

describe('restart and reconnect', () => {
  it('keeps every incident and #N across a restart with the same store file', async () => {
    const before = bot.store.list().map((s) => [s.number, s.incident.id]);
    await bot.stop();
    bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20 });
    expect(bot.store.list().map((s) => [s.number, s.incident.id])).toEqual(before);
    const inc = incident();
    await sendIodef(trustedPeer, 'report', inc);
    const next = Math.max(...before.map(([n]) => n as number)) + 1;
    expect(bot.store.list().find((s) => s.incident.id === inc.id)!.number).toBe(next);
  });

  it('is back in its rooms after the server restarts', async () => {
    await prosody.restart();
    // Rooms are not persistent: alice comes back like a human would, and sees the bot rejoin.
    const aliceAgain = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'after-restart' });
    const room = await observeRoom(aliceAgain, config.rooms.default, 'alice2');
    await room.waitForOccupant('incident-bot', 15_000);
    const inc = incident();
    await trustedPeerOnline();
    await sendIodef(trustedPeer, 'report', inc);
    await room.waitFor((b) => b.includes(inc.id), 10_000);
  });
});

async function trustedPeerOnline(): Promise<void> {
  if (trustedPeer.status === 'online') return;
  await new Promise<void>((resolve) => trustedPeer.once('online', () => resolve()));
}
