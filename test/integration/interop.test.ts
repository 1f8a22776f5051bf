/**
 * Talking to the peers that exist (issue 12), on a real Prosody: Metronome IM's captured stanzas are acknowledged,
 * stored and announced; a peer whose software says it is Metronome (XEP-0092) receives reports in the shape
 * Metronome's handler accepts, while a standard peer still gets the History; a peer that never answers is
 * reported once in the room.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { silentLogger } from '../../src/log.js';
import { INCIDENT_NS } from '../../src/protocol/iodef.js';
import { parseXml } from '../../src/protocol/xml.js';
import { nextStanza, startProsody, type Client, type Element, type Prosody } from '../../dev-tools/prosody.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfig, observeRoom, type RoomObserver } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'interop-pw';
const fixtures = join(fileURLToPath(new URL('.', import.meta.url)), '../fixtures/metronome');

let prosody: Prosody;
let bot: Bot;
let botJid: string;
let metroClient: Client;
let metro: PeerRecorder; // metro@peer.localhost/bot: says it runs Metronome 4.0.5
let std: PeerRecorder; // std@peer.localhost/bot: a plain client (no version answer)
let alice: Client;
let room: RoomObserver;

/** A captured Metronome stanza, as this test's peer server would send it. */
function captured(name: string): Element {
  const text = readFileSync(join(fixtures, name), 'utf8').trim().replaceAll('metronome.localhost', PEER);
  const parsed = parseXml(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  const iq = parsed.value;
  delete iq.attrs.from;
  iq.attrs.to = botJid;
  iq.attrs.id = `${name}-${Date.now()}`;
  return iq;
}

function dm(text: string): Promise<string> {
  const answer = nextStanza(alice, (el: Element) => el.is('message') && el.attrs.type === 'chat' && String(el.attrs.from).startsWith(`incidents@${HOME}`), 8_000);
  void alice.send(xml('message', { to: botJid, type: 'chat' }, xml('body', {}, text)));
  return answer.then((el) => el.getChildText('body') ?? '');
}

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER] });
  for (const [user, host] of [
    ['incidents', HOME],
    ['alice', HOME],
    ['metro', PEER],
    ['std', PEER],
    ['mute', PEER],
  ] as const) {
    await prosody.register(user, host, PASSWORD);
  }
  const config = botConfig({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), 'incident-bot-interop-')), 'incidents.json'),
    defaultRoom: `operators@${prosody.mucOf(HOME)}`,
    admins: [`alice@${HOME}`],
    peers: [
      { jid: `metro@${PEER}/bot`, trust: 'trusted' },
      { jid: `std@${PEER}/bot`, trust: 'trusted' },
      { jid: `mute@${PEER}/bot`, trust: 'trusted' },
    ],
  });
  config.outbox.replyTimeoutSeconds = 1;
  config.outbox.retryMinSeconds = 0.2;
  config.outbox.retryMaxSeconds = 0.5;
  bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20 });
  botJid = `incidents@${HOME}/bot`;
  metroClient = await prosody.client({ username: 'metro', host: PEER, password: PASSWORD, resource: 'bot' });
  metroClient.iqCallee.get('jabber:iq:version', 'query', () =>
    xml('query', { xmlns: 'jabber:iq:version' }, xml('name', {}, 'Metronome'), xml('version', {}, '4.0.5')),
  );
  metro = recordPeer(metroClient);
  std = recordPeer(await prosody.client({ username: 'std', host: PEER, password: PASSWORD, resource: 'bot' }));
  alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD });
  room = await observeRoom(alice, config.rooms.default, 'alice');
  await room.waitForOccupant('incident-bot');
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await prosody?.stop();
});

describe("Metronome's stanzas, as captured", () => {
  it('report: acknowledged, announced with its admin contact, and !show says who reported it', async () => {
    const reply = await metroClient.iqCaller.request(captured('report.xml'), 10_000);
    expect(reply.attrs.type).toBe('result');
    const line = await room.waitFor((b) => b.includes('6UyMqBho0toV4877'));
    expect(line).toContain(`admin admin@${PEER}`);
    const number = bot.store.list().find((s) => s.incident.id === '6UyMqBho0toV4877')!.number;
    const shown = await dm(`show #${number}`);
    expect(shown).toContain(`Reporting admins: admin@${PEER}`);
  });

  it('request (no Expectation): acknowledged and announced', async () => {
    const reply = await metroClient.iqCaller.request(captured('request.xml'), 10_000);
    expect(reply.attrs.type).toBe('result');
    await room.waitFor((b) => b.includes('Wam9CLHNKEdX4877'));
  });

  it('inquiry without IncidentID@name about a known incident: answered with the report', async () => {
    const reply = await metroClient.iqCaller.request(captured('inquiry.xml'), 10_000);
    expect(reply.attrs.type).toBe('result');
    const answer = await metro.waitFor((r) => r.kind === 'report' && r.incident.id === '6UyMqBho0toV4877');
    expect(answer.incident.site).toBe(PEER);
  });
});

describe('peer profiles', () => {
  it('a peer whose software is Metronome gets revisions it accepts: Counters, a target System with NodeRole, no History', async () => {
    const inc = sampleIncident(PEER, { targets: [] });
    await metro.sendIodef(botJid, 'report', inc);
    const number = bot.store.list().find((s) => s.incident.id === inc.id)!.number;
    await room.waitFor((b) => b.startsWith(`#${number} NEW`));
    await room.say(`!ack #${number} on it`);
    const revision = await metro.waitFor((r) => r.incident.id === inc.id && r.kind === 'report');
    const stanza = revision.stanza.toString();
    const systems = revision.stanza.getChild('report', INCIDENT_NS)!.toString();
    expect(systems).toMatch(/<System category=["']target["']>/);
    expect(revision.incident.sources.every((n) => n.counters.length > 0)).toBe(true);
    expect(revision.incident.targets.length).toBeGreaterThan(0);
    expect(revision.incident.targets.every((n) => n.roles.length > 0)).toBe(true);
    expect(stanza).not.toContain('HistoryItem');
    // The triage action travels in the text instead.
    expect(revision.incident.texts[0]!.text).toMatch(new RegExp(`alice@${HOME}: status-triage — on it`));
    expect(await dm('peers')).toContain(`metro@${PEER}/bot — trusted, format as it reports (iodef if it never did), profile metronome (detected: Metronome 4.0.5)`);
  });

  it('an inquiry to a Metronome peer is sent, and the room is told once that Metronome fails on known ids', async () => {
    await room.say(`!inquire metro@${PEER}/bot abc-1`);
    await room.waitFor((b) => b.includes('runs Metronome, whose handler fails on inquiries'));
    await room.say(`!inquire metro@${PEER}/bot abc-2`);
    await room.waitFor((b) => b.includes('abc-2') && b.includes('sent to'));
    // Both went out as they are (no reshaping of inquiries), and the warning was said once.
    await metro.waitFor((r) => r.kind === 'inquiry' && r.incident.id === 'abc-1');
    await metro.waitFor((r) => r.kind === 'inquiry' && r.incident.id === 'abc-2');
    expect(room.messages.filter((m) => m.body.includes('whose handler fails on inquiries')).length).toBe(1);
  });

  it('a standard peer still gets the History', async () => {
    const inc = sampleIncident(PEER);
    await std.sendIodef(botJid, 'report', inc);
    const number = bot.store.list().find((s) => s.incident.id === inc.id)!.number;
    await room.waitFor((b) => b.startsWith(`#${number} NEW`));
    await room.say(`!ack #${number}`);
    const revision = await std.waitFor((r) => r.incident.id === inc.id && r.kind === 'report');
    expect(revision.incident.history.some((h) => h.action === 'status-triage')).toBe(true);
  });
});

describe('a peer that never answers (as Metronome does when its handler fails)', () => {
  it('is reported once in the room, and still retried', async () => {
    const mute = await prosody.client({ username: 'mute', host: PEER, password: PASSWORD, resource: 'bot' });
    const received: string[] = [];
    mute.iqCallee.set(INCIDENT_NS, 'report', (ctx: { stanza: Element }) => {
      received.push(String(ctx.stanza.attrs.id));
      return new Promise(() => undefined);
    });
    const inc = sampleIncident(PEER);
    await recordPeer(mute).sendIodef(botJid, 'report', inc).catch(() => undefined);
    const number = bot.store.list().find((s) => s.incident.id === inc.id)!.number;
    await room.waitFor((b) => b.startsWith(`#${number} NEW`));
    await room.say(`!ack #${number}`);
    await room.waitFor((b) => b.includes(`mute@${PEER}/bot has not answered 3 stanzas in a row`), 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(received.length).toBeGreaterThanOrEqual(4);
    expect(room.messages.filter((m) => m.body.includes('has not answered')).length).toBe(1);
    // The timeout says why, in the outbox (and so in !outbox and the log), rather than an empty error.
    const owed = bot.store.outbox.find((e) => e.to === `mute@${PEER}/bot`);
    expect(owed?.lastError).toMatch(/^no answer to IQ .+ within \d+ ms$/);
    await room.say('!outbox');
    await room.waitFor((b) => b.includes('last error no answer to IQ'));
  });
});
