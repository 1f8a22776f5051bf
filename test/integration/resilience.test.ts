/**
 * Resilience end to end on a real Prosody: storm folding, per-sender and size limits, the outbox across a restart
 * and a peer outage, give-up, forwarding loops between three bots, and no password in logs or replies.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { parseConfig, type Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/log.js';
import { nextStanza, startProsody, stopClient, type Client, type Element, type Prosody } from '../../dev-tools/prosody.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfigJson, observeRoom, type BotConfigInput, type RoomObserver } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const THIRD = 'third.localhost';
const PASSWORD = 'Resil-S3cret-pw-7731';

let prosody: Prosody;
const bots: Bot[] = [];

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(20);
  }
}

async function account(user: string, host: string): Promise<void> {
  await prosody.register(user, host, PASSWORD);
}
async function peerClient(user: string, host = PEER): Promise<Client> {
  return prosody.client({ username: user, host, password: PASSWORD, resource: 'bot' });
}

type Extra = Partial<BotConfigInput> & { limits?: Record<string, number>; outbox?: Record<string, number> };
/** A config for `user@host/bot`, with its own store and default room `room@conference.host`. */
async function makeConfig(user: string, host: string, room: string, extra: Extra = {}): Promise<Config> {
  const { limits, outbox, ...input } = extra;
  const json = botConfigJson({
    service: prosody.service,
    domain: host,
    username: user,
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), `resilience-${user}-`)), 'incidents.json'),
    defaultRoom: `${room}@${prosody.mucOf(host)}`,
    ...input,
  });
  if (limits) json.limits = limits;
  if (outbox) json.outbox = outbox;
  return parseConfig(json);
}
async function launch(config: Config, opts: { roomIntervalMs?: number; log?: ReturnType<typeof silentLogger> } = {}): Promise<Bot> {
  const bot = await startBot(config, { log: opts.log ?? silentLogger(), ...(opts.roomIntervalMs ? { roomIntervalMs: opts.roomIntervalMs } : {}) });
  bots.push(bot);
  return bot;
}
/** An admin watching the bot's default room (joined after the bot, which created and unlocked it). */
async function watch(user: string, host: string, config: Config): Promise<RoomObserver> {
  const c = await prosody.client({ username: user, host, password: PASSWORD, resource: `watch-${config.xmpp.username}` });
  const room = await observeRoom(c, config.rooms.default, user);
  await room.waitForOccupant(config.nick);
  return room;
}
const jidOf = (c: Config) => `${c.xmpp.username}@${c.xmpp.domain}/${c.xmpp.resource}`;
const byId = (bot: Bot, id: string) => bot.store.list().filter((s) => s.incident.id === id);
const botLines = (room: RoomObserver) => room.messages.filter((m) => m.nick === 'incident-bot');
async function stanzaError(p: Promise<unknown>): Promise<{ condition?: string; text?: string; type?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { condition?: string; text?: string };
  }
  throw new Error('expected an IQ error, got a result');
}

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER, THIRD] });
  const accounts: Array<[string, string]> = [
    ['alice', HOME], ['storm', HOME], ['lim', HOME], ['size', HOME], ['outbox', HOME], ['srvrestart', HOME], ['giveup', HOME], ['a', HOME], ['secret', HOME],
    ['reporter', PEER], ['other', PEER], ['b', PEER], ['boss', PEER], ['c', THIRD], ['boss', THIRD],
  ];
  for (const [u, h] of accounts) await account(u, h);
}, 60_000);

afterAll(async () => {
  for (const b of bots) await b.stop().catch(() => undefined);
  await prosody?.stop();
});

const trustedReporter = [{ jid: `reporter@${PEER}/bot`, trust: 'trusted' as const, format: 'iodef' as const }];

describe('flood and size limits', () => {
  it('folds a storm of 200 concurrent reports into a few grouped room lines, storing all', async () => {
    const config = await makeConfig('storm', HOME, 'storm', { admins: [`alice@${HOME}`], peers: trustedReporter });
    const bot = await launch(config); // default room interval
    const room = await watch('alice', HOME, config);
    const reporter = recordPeer(await peerClient('reporter'));
    const incidents = Array.from({ length: 200 }, () => sampleIncident(PEER));
    const results = await Promise.all(incidents.map((inc) => reporter.sendIodef(jidOf(config), 'report', inc)));
    expect(results.every((r) => r.attrs.type === 'result')).toBe(true);
    for (const inc of incidents) expect(byId(bot, inc.id)).toHaveLength(1);
    expect(bot.store.size).toBe(200);
    await room.waitFor((b) => /\d+ new incidents from peer\.localhost: #\d+–#\d+/.test(b), 15_000);
    // Every number must be covered by some bot line; then the count of lines is what the room got.
    const covered = () => {
      const seen = new Set<number>();
      for (const m of botLines(room)) {
        for (const [, a, b] of m.body.matchAll(/#(\d+)(?:–#(\d+))?/g)) for (let n = Number(a); n <= Number(b ?? a); n++) seen.add(n);
      }
      return seen.size >= 200;
    };
    await until(covered, 15_000, 'all 200 numbers announced');
    await wait(600);
    expect(botLines(room).length).toBeLessThan(20);
  }, 60_000);

  it('limits reports per sender with resource-constraint, without affecting another sender', async () => {
    const config = await makeConfig('lim', HOME, 'lim', {
      peers: [...trustedReporter, { jid: `other@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
      limits: { reportsPerMinute: 60, burst: 5 },
    });
    const bot = await launch(config, { roomIntervalMs: 20 });
    const reporter = recordPeer(await prosody.client({ username: 'reporter', host: PEER, password: PASSWORD, resource: 'lim' }));
    const other = recordPeer(await prosody.client({ username: 'other', host: PEER, password: PASSWORD, resource: 'lim' }));
    for (let i = 0; i < 5; i++) await reporter.sendIodef(jidOf(config), 'report', sampleIncident(PEER));
    const sixth = sampleIncident(PEER);
    const err = await stanzaError(reporter.sendIodef(jidOf(config), 'report', sixth));
    expect(err.condition).toBe('resource-constraint');
    expect(err.text).toMatch(/too many reports/);
    expect(byId(bot, sixth.id)).toHaveLength(0);
    expect(bot.stats.get('rejected-rate-limit')).toBeGreaterThanOrEqual(1);
    const fromOther = sampleIncident(PEER);
    expect((await other.sendIodef(jidOf(config), 'report', fromOther)).attrs.type).toBe('result');
    expect(byId(bot, fromOther.id)).toHaveLength(1);
    expect(bot.store.size).toBe(6);
  }, 30_000);

  it('refuses incidents with too many addresses or too long a text, storing nothing', async () => {
    const config = await makeConfig('size', HOME, 'size', {
      peers: trustedReporter,
      limits: { maxAddresses: 10, maxTextLength: 100, maxIncidentBytes: 20_000 },
    });
    const bot = await launch(config, { roomIntervalMs: 20 });
    const reporter = recordPeer(await prosody.client({ username: 'reporter', host: PEER, password: PASSWORD, resource: 'size' }));
    const before = bot.store.size;
    const many = sampleIncident(PEER, {
      sources: Array.from({ length: 11 }, (_, i) => ({ addresses: [{ kind: 'jid' as const, value: `spammer${i}@abuse.lit` }], counters: [], roles: [] })),
    });
    const e1 = await stanzaError(reporter.sendIodef(jidOf(config), 'report', many));
    expect(e1.condition).toBe('not-acceptable');
    expect(e1.text).toMatch(/too many addresses/);
    const long = sampleIncident(PEER, { texts: [{ lang: 'en', text: 'x'.repeat(200) }] });
    const e2 = await stanzaError(reporter.sendIodef(jidOf(config), 'report', long));
    expect(e2.condition).toBe('not-acceptable');
    expect(e2.text).toMatch(/too long/);
    expect(bot.store.size).toBe(before);
    // A report within the limits still goes through (the refusals were about size).
    expect((await reporter.sendIodef(jidOf(config), 'report', sampleIncident(PEER))).attrs.type).toBe('result');
    expect(bot.store.size).toBe(before + 1);
  }, 30_000);
});

describe('the outbox', () => {
  it('keeps a revision for an offline peer across a restart and delivers it when the peer is back', async () => {
    const config = await makeConfig('outbox', HOME, 'outbox', {
      admins: [`alice@${HOME}`],
      peers: [{ jid: `reporter@${PEER}/outbox`, trust: 'trusted', format: 'iodef' }],
      outbox: { retryMinSeconds: 0.2, retryMaxSeconds: 1 },
    });
    const bot = await launch(config, { roomIntervalMs: 20 });
    const room = await watch('alice', HOME, config);
    const peerC = await prosody.client({ username: 'reporter', host: PEER, password: PASSWORD, resource: 'outbox' });
    const inc = sampleIncident(PEER);
    await recordPeer(peerC).sendIodef(jidOf(config), 'report', inc);
    const number = byId(bot, inc.id)[0]!.number;
    await stopClient(peerC);
    await room.say(`!ack #${number}`);
    await room.waitFor((b) => b.startsWith(`#${number} acknowledged`));
    await until(() => bot.store.outbox.some((e) => e.attempts >= 1), 5_000, 'a failed delivery attempt');
    await bot.stop();
    const again = await launch(config, { roomIntervalMs: 20 });
    expect(again.store.outbox.length).toBeGreaterThanOrEqual(1);
    expect(again.store.outbox.some((e) => e.number === number)).toBe(true);
    const back = recordPeer(await prosody.client({ username: 'reporter', host: PEER, password: PASSWORD, resource: 'outbox' }));
    const revision = await back.waitFor((r) => r.incident.id === inc.id && r.kind === 'report', 10_000);
    expect(revision.status).toBe('updated');
    await until(() => again.store.outbox.length === 0, 5_000, 'the outbox to drain');
  }, 40_000);

  it('after the server restarts under it, is back in its room and drains what it owed', async () => {
    const config = await makeConfig('srvrestart', HOME, 'srvrestart', {
      admins: [`alice@${HOME}`],
      peers: [{ jid: `reporter@${PEER}/srvrestart`, trust: 'trusted', format: 'iodef' }],
      outbox: { retryMinSeconds: 0.2, retryMaxSeconds: 1 },
    });
    const bot = await launch(config, { roomIntervalMs: 20 });
    const room = await watch('alice', HOME, config);
    const peerC = await prosody.client({ username: 'reporter', host: PEER, password: PASSWORD, resource: 'srvrestart' });
    const inc = sampleIncident(PEER);
    await recordPeer(peerC).sendIodef(jidOf(config), 'report', inc);
    const number = byId(bot, inc.id)[0]!.number;
    await stopClient(peerC);
    await room.say(`!ack #${number}`);
    await until(() => bot.store.outbox.some((e) => e.attempts >= 1), 5_000, 'a failed delivery attempt');
    await prosody.restart();
    await until(() => bot.xmpp.status === 'online', 15_000, 'the bot to reconnect');
    const aliceAgain = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'after-restart' });
    const roomAgain = await observeRoom(aliceAgain, config.rooms.default, 'alice-again');
    await roomAgain.waitForOccupant(config.nick, 15_000);
    const back = recordPeer(await prosody.client({ username: 'reporter', host: PEER, password: PASSWORD, resource: 'srvrestart' }));
    const revision = await back.waitFor((r) => r.incident.id === inc.id && r.kind === 'report', 15_000);
    expect(revision.status).toBe('updated');
    await until(() => bot.store.outbox.length === 0, 5_000, 'the outbox to drain');
  }, 60_000);

  it('gives up on a peer that never comes online, and says so in the room', async () => {
    const config = await makeConfig('giveup', HOME, 'giveup', {
      admins: [`alice@${HOME}`],
      peers: [...trustedReporter.map((p) => ({ ...p, jid: `reporter@${PEER}/giveup` })), { jid: `ghost@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
      outbox: { retryMinSeconds: 0.2, retryMaxSeconds: 0.5, giveUpAfterMinutes: 0.005 },
    });
    const bot = await launch(config, { roomIntervalMs: 20 });
    const room = await watch('alice', HOME, config);
    const reporter = recordPeer(await prosody.client({ username: 'reporter', host: PEER, password: PASSWORD, resource: 'giveup' }));
    const inc = sampleIncident(PEER);
    await reporter.sendIodef(jidOf(config), 'report', inc);
    const number = byId(bot, inc.id)[0]!.number;
    await room.say(`!forward #${number} ghost@${PEER}/bot`);
    const line = await room.waitFor((b) => /Gave up delivering|refused/.test(b) && b.includes(`ghost@${PEER}`), 10_000);
    expect(line).toMatch(new RegExp(`Gave up delivering the forward of #${number} to ghost@${PEER}/bot`));
    expect(bot.store.outbox.some((e) => e.to === `ghost@${PEER}/bot`)).toBe(false);
    expect(bot.stats.get('delivery-gave-up')).toBeGreaterThanOrEqual(1);
  }, 30_000);
});

describe('forwarding loops', () => {
  it('A→B→C→A leaves each bot with the incident exactly once', async () => {
    const all = [`a@${HOME}/bot`, `b@${PEER}/bot`, `c@${THIRD}/bot`];
    const trustAll = (self: string) => [
      ...all.filter((j) => j !== self).map((jid) => ({ jid, trust: 'trusted' as const, format: 'iodef' as const })),
      { jid: `reporter@${PEER}/loop`, trust: 'trusted' as const, format: 'iodef' as const },
    ];
    const ca = await makeConfig('a', HOME, 'ops-a', { admins: [`alice@${HOME}`], peers: trustAll(all[0]!) });
    const cb = await makeConfig('b', PEER, 'ops-b', { admins: [`boss@${PEER}`], peers: trustAll(all[1]!) });
    const cc = await makeConfig('c', THIRD, 'ops-c', { admins: [`boss@${THIRD}`], peers: trustAll(all[2]!) });
    const [A, B, C] = [await launch(ca, { roomIntervalMs: 20 }), await launch(cb, { roomIntervalMs: 20 }), await launch(cc, { roomIntervalMs: 20 })];
    const [ra, rb, rc] = [await watch('alice', HOME, ca), await watch('boss', PEER, cb), await watch('boss', THIRD, cc)];
    const reporter = recordPeer(await prosody.client({ username: 'reporter', host: PEER, password: PASSWORD, resource: 'loop' }));
    const inc = sampleIncident(PEER);
    await reporter.sendIodef(all[0]!, 'report', inc);
    const sizeA = A.store.size;
    const hop = async (from: Bot, room: RoomObserver, to: Bot, toJid: string) => {
      const n = byId(from, inc.id)[0]!.number;
      await room.say(`!forward #${n} ${toJid}`);
      await room.waitFor((b) => b.startsWith(`#${n} forwarded to ${toJid}`));
      await until(() => byId(to, inc.id).length > 0, 8_000, `${toJid} to hold the incident`);
      await until(() => from.store.outbox.length === 0, 8_000, 'the forward to be delivered');
    };
    await hop(A, ra, B, all[1]!);
    await hop(B, rb, C, all[2]!);
    await hop(C, rc, A, all[0]!);
    await wait(500); // anything a loop would send back has time to arrive
    for (const bot of [A, B, C]) expect(byId(bot, inc.id)).toHaveLength(1);
    expect(A.store.size).toBe(sizeA);
    // At most an update in A's room: one NEW line about the incident, never a second one.
    expect(ra.messages.filter((m) => m.body.includes(inc.id) && / NEW /.test(m.body))).toHaveLength(1);
    for (const bot of [A, B, C]) expect(bot.store.outbox).toHaveLength(0);
    expect(reporter.received.filter((r) => r.kind === 'report' && r.status === 'new')).toHaveLength(0);
  }, 60_000);
});

describe('secrets', () => {
  it('never writes the password to logs or replies, even at debug level', async () => {
    const chunks: string[] = [];
    const log = pino({ level: 'debug' }, { write: (s: string) => void chunks.push(s) });
    const config = await makeConfig('secret', HOME, 'secret', { admins: [`alice@${HOME}`], peers: trustedReporter.map((p) => ({ ...p, jid: `reporter@${PEER}/secret` })) });
    const bot = await launch(config, { roomIntervalMs: 20, log });
    const room = await watch('alice', HOME, config);
    const reporter = recordPeer(await prosody.client({ username: 'reporter', host: PEER, password: PASSWORD, resource: 'secret' }));
    const inc = sampleIncident(PEER);
    await reporter.sendIodef(jidOf(config), 'report', inc);
    await room.waitFor((b) => b.includes(inc.id) || /^#\d+ NEW/.test(b));
    const alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'dm' });
    const answer = nextStanza(alice, (el: Element) => el.is('message') && el.attrs.type === 'chat' && String(el.attrs.from).startsWith(`secret@${HOME}`), 8_000);
    await alice.send(xml('message', { to: jidOf(config), type: 'chat' }, xml('body', {}, 'stats')));
    const reply = (await answer).getChildText('body') ?? '';
    expect(reply.length).toBeGreaterThan(0);
    expect(reply).not.toContain(PASSWORD);
    for (const m of room.messages) expect(m.body).not.toContain(PASSWORD);
    const logs = chunks.join('');
    expect(logs).toContain('bot started');
    expect(logs).not.toContain(PASSWORD);
    expect(bot.stats.get('received-report')).toBe(1);
  }, 30_000);
});
