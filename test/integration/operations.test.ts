/**
 * Running it like a service (issue 17), on a real Prosody: /metrics scraped and read by a strict parser while
 * reports flow, /healthz saying why it is unhealthy, and the configuration reloaded without a reconnect — a trust
 * list change applies at once, an invalid file changes nothing.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/log.js';
import { nextStanza, startProsody, type Client, type Element, type Prosody } from '../../dev-tools/prosody.js';
import { freePort } from '../../dev-tools/server-process.js';
import { parseExposition } from '../../dev-tools/openmetrics.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfigJson, observeRoom, type RoomObserver } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'ops-pw';

let prosody: Prosody;
let bot: Bot;
let botJid: string;
let configFile: string;
let peer: PeerRecorder; // trusted
let newcomer: PeerRecorder; // not in the trust list until the reload
let alice: Client;
let room: RoomObserver;
let onlineEvents = 0;

function dm(text: string): Promise<string> {
  const answer = nextStanza(alice, (el: Element) => el.is('message') && el.attrs.type === 'chat' && String(el.attrs.from).startsWith(`incidents@${HOME}`), 10_000);
  void alice.send(xml('message', { to: botJid, type: 'chat' }, xml('body', {}, text)));
  return answer.then((el) => el.getChildText('body') ?? '');
}

async function get(path: string): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(`http://${bot.httpAddress()}${path}`);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER] });
  for (const [user, host] of [
    ['incidents', HOME],
    ['alice', HOME],
    ['incidents', PEER],
    ['newcomer', PEER],
  ] as const) {
    await prosody.register(user, host, PASSWORD);
  }
  const dir = await mkdtemp(join(tmpdir(), 'incident-bot-ops-'));
  configFile = join(dir, 'bot.config.json');
  const json = botConfigJson({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: 'incidents.json',
    defaultRoom: `operators@${prosody.mucOf(HOME)}`,
    admins: [`alice@${HOME}`],
    peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
  });
  await writeFile(configFile, JSON.stringify({ ...json, http: { listen: `127.0.0.1:${await freePort()}` } }, null, 2));
  bot = await startBot(loadConfig(configFile), { log: silentLogger(), roomIntervalMs: 20, configFile });
  bot.xmpp.on('online', () => onlineEvents++);
  botJid = `incidents@${HOME}/bot`;
  peer = recordPeer(await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' }));
  newcomer = recordPeer(await prosody.client({ username: 'newcomer', host: PEER, password: PASSWORD, resource: 'bot' }));
  alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD });
  room = await observeRoom(alice, `operators@${prosody.mucOf(HOME)}`, 'alice');
  await room.waitForOccupant('incident-bot');
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await prosody?.stop();
});

describe('/metrics', () => {
  it('is valid Prometheus text and counts reports by format, kind and trust, with latencies and states', async () => {
    for (let i = 0; i < 3; i++) await peer.sendIodef(botJid, 'report', sampleIncident(PEER));
    await newcomer.sendIodef(botJid, 'report', sampleIncident(PEER));
    // Announced alone or folded into a storm summary: either way #4 reaches the room.
    await room.waitFor((b) => /#4 |–#4/.test(b));
    const { status, text, type } = await get('/metrics');
    expect(status).toBe(200);
    expect(type).toContain('text/plain');
    let m = parseExposition(text);
    // Incidents by state come from the store's counters, which follow its index passes (a fraction of a second
    // behind the commits): scrape again until they caught up, as Prometheus would on its next scrape.
    for (let i = 0; i < 100 && m.value('incident_bot_incidents', { state: 'open' }) !== 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      m = parseExposition((await get('/metrics')).text);
    }
    expect(m.value('incident_bot_reports_received_total', { format: 'iodef', kind: 'report', trust: 'trusted' })).toBe(3);
    expect(m.value('incident_bot_reports_received_total', { format: 'iodef', kind: 'report', trust: 'untrusted' })).toBe(1);
    expect(m.value('incident_bot_ack_latency_seconds_count')).toBe(4);
    expect(m.value('incident_bot_store_commit_seconds_count')).toBe(4);
    expect(m.value('incident_bot_announce_latency_seconds_count')).toBeGreaterThanOrEqual(4);
    expect(m.value('incident_bot_incidents', { state: 'open' })).toBe(4);
    expect(m.value('incident_bot_connected')).toBe(1);
    expect(m.value('incident_bot_in_default_room')).toBe(1);
    expect(m.value('incident_bot_store_writable')).toBe(1);
    expect(m.value('incident_bot_store_bytes')).toBeGreaterThan(0);
    expect(m.types.get('incident_bot_process_resident_memory_bytes')).toBe('gauge');
  });

  it('counts refusals by reason and shows the outbox per peer', async () => {
    const bad = xml('report', { xmlns: 'urn:xmpp:incident:2' }, xml('Incident', { xmlns: 'urn:ietf:params:xml:ns:iodef-1.0' }));
    // The recorder sends only well-formed ones: the raw client sends this one.
    const client = await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'raw' });
    await client.iqCaller.request(xml('iq', { type: 'set', to: botJid }, bad)).catch(() => undefined);
    const number = bot.store.list().find((s) => s.trusted)!.number;
    await room.say(`!ack #${number}`);
    await peer.waitFor((r) => r.kind === 'report' && r.status === 'updated');
    // The delivery counts once the peer's IQ result is back at the bot.
    let m = parseExposition((await get('/metrics')).text);
    for (let i = 0; i < 50 && m.value('incident_bot_deliveries_total', { outcome: 'delivered' }) === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      m = parseExposition((await get('/metrics')).text);
    }
    expect(m.value('incident_bot_reports_refused_total', { reason: 'malformed' })).toBe(1);
    expect(m.value('incident_bot_deliveries_total', { outcome: 'delivered' })).toBeGreaterThanOrEqual(1);
    // Nothing owed any more: the per-peer outbox families are there, with no peer in them.
    expect(m.types.get('incident_bot_outbox_depth')).toBe('gauge');
    expect(m.samples.filter((s) => s.name === 'incident_bot_outbox_depth')).toEqual([]);
  });
});

describe('reload', () => {
  it('applies a trust list change at once, without a reconnect', async () => {
    const before = onlineEvents;
    const json = JSON.parse(await readFile(configFile, 'utf8'));
    json.peers.push({ jid: `newcomer@${PEER}/bot`, trust: 'trusted', format: 'iodef' });
    await writeFile(configFile, JSON.stringify(json, null, 2));
    const answer = await dm('reload');
    expect(answer).toContain('peers changed and applied');
    const inc = sampleIncident(PEER);
    await newcomer.sendIodef(botJid, 'report', inc);
    expect(bot.store.list().find((s) => s.incident.id === inc.id)!.trusted).toBe(true);
    expect(onlineEvents).toBe(before);
    expect(bot.xmpp.status).toBe('online');
  });

  it('refuses an invalid file, naming the key, and changes nothing', async () => {
    const good = await readFile(configFile, 'utf8');
    const json = JSON.parse(good);
    json.peers = [];
    json.rooms.maxJoined = 0;
    await writeFile(configFile, JSON.stringify(json, null, 2));
    const answer = await dm('reload');
    expect(answer).toContain('Configuration not reloaded (the running one stays)');
    expect(answer).toContain('rooms.maxJoined');
    expect(bot.config.peers).toHaveLength(2);
    await writeFile(configFile, good);
  });

  it('names what needs a restart', async () => {
    const json = JSON.parse(await readFile(configFile, 'utf8'));
    json.nick = 'another-bot';
    await writeFile(configFile, JSON.stringify(json, null, 2));
    expect(await dm('reload')).toContain('needing a restart to take effect: nick');
    expect(bot.config.nick).toBe('incident-bot');
  });
});

describe('reload: rooms', () => {
  it('leaves a report room that rooms.allow no longer allows, and stays in the default room, on the same stream', async () => {
    const before = onlineEvents;
    const reports = `reports@${prosody.mucOf(HOME)}`;
    const reportsRoom = await observeRoom(alice, reports, 'alice');
    const rewrite = async (allow: string[]) => {
      const json = JSON.parse(await readFile(configFile, 'utf8'));
      json.rooms.allow = allow;
      await writeFile(configFile, JSON.stringify(json, null, 2));
      return dm('reload');
    };
    expect(await rewrite([`*@${prosody.mucOf(HOME)}`])).toContain('rooms changed and applied');
    // A trusted report that names the room: now allowed, so the bot joins it to announce there.
    await peer.sendIodef(botJid, 'report', sampleIncident(PEER, { room: reports }));
    await reportsRoom.waitForOccupant('incident-bot', 10_000);
    const answer = await rewrite([]);
    expect(answer).toContain(`Left report rooms no longer allowed: ${reports}.`);
    for (let i = 0; i < 50 && reportsRoom.occupants.has('incident-bot'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(reportsRoom.occupants.has('incident-bot')).toBe(false);
    expect(room.occupants.has('incident-bot')).toBe(true);
    expect(onlineEvents).toBe(before);
  });
});

describe('after the server restarts', () => {
  it('counts the reconnect, and /healthz is 200 again once back in the room', async () => {
    await prosody.restart();
    let m = parseExposition((await get('/metrics')).text);
    for (let i = 0; i < 200 && !(m.value('incident_bot_reconnects_total') === 1 && m.value('incident_bot_in_default_room') === 1); i++) {
      await new Promise((r) => setTimeout(r, 100));
      m = parseExposition((await get('/metrics')).text);
    }
    expect(m.value('incident_bot_reconnects_total')).toBe(1);
    expect(m.value('incident_bot_connected')).toBe(1);
    expect(m.value('incident_bot_in_default_room')).toBe(1);
    expect((await get('/healthz')).status).toBe(200);
  }, 30_000);
});

describe('/healthz', () => {
  it('is 200 when connected, in the room and writable; 503 with the reason when the server is gone', async () => {
    const ok = await get('/healthz');
    expect([ok.status, ok.text]).toEqual([200, 'ok\n']);
    await prosody.stop();
    let down = await get('/healthz');
    for (let i = 0; i < 50 && down.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      down = await get('/healthz');
    }
    expect(down.status).toBe(503);
    expect(down.text).toBe('not connected to the XMPP server\n');
    expect((await get('/nothing')).status).toBe(404);
  });
});
