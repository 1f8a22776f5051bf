/**
 * A hostile peer against a real Prosody whose stanza size limit is 64 KB (c2s_stanza_size_limit): stanzas the bot
 * builds stay under it whatever peers send, peer strings cannot fake a bot line, inquiries do not leak untrusted
 * reports, multi-byte text survives any TCP chunking, a forged IQ result does not complete a delivery, and one
 * domain cannot multiply its report rate with accounts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { parseConfig, type Config } from '../../src/core/config.js';
import { outboxEntry } from '../../src/core/outbox.js';
import { IncidentStore } from '../../src/core/store.js';
import { silentLogger } from '../../src/log.js';
import { emptyIncident, type Incident, type NetworkNode } from '../../src/protocol/incident.js';
import { encodeIodef, INCIDENT_NS } from '../../src/protocol/iodef.js';
import { nextStanza, sleep, startProsody, until, type Client, type Element, type Prosody } from '../../dev-tools/prosody.js';
import { recordPeer, sampleIncident, type PeerRecorder } from '../../dev-tools/peers.js';
import { botConfigJson, observeRoom, type RoomObserver } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const RATE = 'rate.localhost';
const PASSWORD = 'Hostile-pw-4471';
/** Prosody's limit here, and the bot's default limits.maxStanzaBytes. */
const LIMIT = 65536;

let prosody: Prosody;
const bots: Bot[] = [];
let bot: Bot;
let config: Config;
let botJid: string;
let peer: Client; // incidents@peer.localhost/bot: trusted, IODEF
let recorder: PeerRecorder;
let mallory: Client; // not on the trust list
let alice: Client; // admin, in the operators room
let operators: RoomObserver;
/** Stream losses of the bot since it started: a stanza over the server's limit costs the stream. */
let disconnects = 0;

const bytes = (el: Element | string) => Buffer.byteLength(el.toString(), 'utf8');
const numberOf = (b: Bot, id: string) => b.store.list().find((s) => s.incident.id === id)?.number;

async function makeConfig(user: string, extra: Record<string, unknown> = {}): Promise<Config> {
  const json = botConfigJson({
    service: prosody.service,
    domain: HOME,
    username: user,
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), `hostile-${user}-`)), 'incidents.json'),
    defaultRoom: `${user}-ops@${prosody.mucOf(HOME)}`,
    admins: [`alice@${HOME}`],
    peers: [
      { jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' },
      { jid: `slow@${PEER}/bot`, trust: 'trusted', format: 'iodef' },
      { jid: RATE, trust: 'trusted', format: 'iodef' },
    ],
  });
  return parseConfig({ ...json, ...extra });
}

async function launch(c: Config): Promise<Bot> {
  const b = await startBot(c, { log: silentLogger(), roomIntervalMs: 20 });
  bots.push(b);
  return b;
}

/**
 * What a hostile peer writes: text with `&` in CDATA sections, one byte each on the wire. The server re-escapes it
 * when it routes the stanza on (`&amp;`, five bytes), so the bot receives five times what the server let in.
 */
function withCdata(stanza: string): string {
  return stanza.replace(/>([^<]*&amp;[^<]*)</g, (_, text: string) => `><![CDATA[${text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')}]]><`);
}

async function sendRaw(from: Client, kind: 'report' | 'inquiry', incident: Incident, mangle = (text: string) => text): Promise<Element> {
  const id = `raw-${randomUUID()}`;
  const stanza = xml('iq', { type: kind === 'report' ? 'set' : 'get', to: botJid, id }, encodeIodef(kind, incident));
  const answer = nextStanza(from, (el) => el.is('iq') && el.attrs.id === id, 10_000);
  await (from as unknown as { write(text: string): Promise<void> }).write(mangle(withCdata(stanza.toString())));
  return answer;
}

const jidNode = (value: string): NetworkNode => ({ addresses: [{ kind: 'jid', value }], counters: [], roles: [] });
const ampTexts = () => ['en', 'de', 'fr', 'es', 'it', 'nl', 'sv'].map((lang) => ({ lang, text: '&'.repeat(8000) }));

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER, RATE], stanzaSizeLimit: LIMIT });
  for (const [user, host] of [
    ['incidents', HOME], ['seeded', HOME], ['ratebot', HOME], ['alice', HOME],
    ['incidents', PEER], ['mallory', PEER], ['slow', PEER], ['eve', PEER], ['one', RATE], ['two', RATE],
  ] as const) {
    await prosody.register(user, host, PASSWORD);
  }
  config = await makeConfig('incidents');
  bot = await launch(config);
  bot.xmpp.on('disconnect', () => (disconnects += 1));
  botJid = `incidents@${HOME}/bot`;
  peer = await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' });
  recorder = recordPeer(peer);
  mallory = await prosody.client({ username: 'mallory', host: PEER, password: PASSWORD, resource: 'x' });
  alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'desk' });
  operators = await observeRoom(alice, config.rooms.default, 'alice');
  await operators.waitForOccupant('incident-bot');
}, 60_000);

afterAll(async () => {
  for (const b of bots) await b.stop().catch(() => undefined);
  await prosody?.stop();
});

describe('every stanza the bot builds stays under the server limit', () => {
  const big = sampleIncident(PEER, { texts: ampTexts() });

  it('answers an inquiry about a 56 KB report of `&` (280 KB once re-escaped) with a clipped report, and keeps its stream', async () => {
    expect((await sendRaw(peer, 'report', big)).attrs.type).toBe('result');
    const number = numberOf(bot, big.id)!;
    expect(bot.store.getByNumber(number)!.incident.texts[0]!.text).toBe('&'.repeat(8000));
    await recorder.sendIodef(botJid, 'inquiry', { ...emptyIncident(big.id), site: PEER });
    const answer = await recorder.waitFor((r) => r.kind === 'report' && r.incident.id === big.id, 10_000, 'the inquiry answer');
    expect(bytes(answer.stanza)).toBeLessThanOrEqual(LIMIT);
    const english = answer.incident.texts.find((t) => t.lang === 'en')!.text;
    expect(english.startsWith('&&&&&&&&')).toBe(true);
    expect(english).toMatch(/characters clipped\]/);
    expect(disconnects).toBe(0);
  }, 30_000);

  it('refuses a malformed 56 KB report with bad-request without echoing it back, and keeps its stream', async () => {
    // Refused because it is not what it claims (an IODEF 2.0 Incident): odd values alone are accepted and noted.
    const answer = await sendRaw(peer, 'report', big, (text) => text.replace('iodef-1.0"', 'iodef-2.0"'));
    expect(answer.attrs.type).toBe('error');
    expect(answer.getChild('error')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas')).toMatch(/must be in namespace urn:ietf:params:xml:ns:iodef-1.0/);
    expect(bytes(answer)).toBeLessThan(4096);
    expect(disconnects).toBe(0);
  }, 30_000);

  it('!show in the room and export by direct message of that report fit too', async () => {
    const number = numberOf(bot, big.id)!;
    await operators.say(`!show #${number}`);
    const shown = await operators.waitFor((b) => b.startsWith(`#${number} *`), 8_000, 'the !show answer');
    expect(shown).toContain('&&&&');
    for (const format of ['iodef', 'legacy', 'json']) {
      const reply = nextStanza(alice, (el) => el.is('message') && el.attrs.type === 'chat' && String(el.attrs.from).startsWith(botJid), 8_000);
      await alice.send(xml('message', { to: botJid, type: 'chat' }, xml('body', {}, `export #${number} ${format}`)));
      const got = await reply;
      expect(bytes(got)).toBeLessThanOrEqual(LIMIT);
      expect(got.getChildText('body')).toMatch(/characters clipped/);
    }
    expect(disconnects).toBe(0);
  }, 30_000);

  it('announces an untrusted report with 60 long source JIDs in one folded line, and keeps its stream', async () => {
    const sources = Array.from({ length: 60 }, (_, i) => jidNode(`src${i}@abuse.lit/${'&'.repeat(900)}`));
    const spam = sampleIncident(PEER, { sources });
    expect((await sendRaw(mallory, 'report', spam)).attrs.type).toBe('result');
    const number = numberOf(bot, spam.id)!;
    const line = await operators.waitFor((b) => b.startsWith(`#${number} NEW`), 8_000, 'the announcement');
    expect(line).toContain('⚠ UNTRUSTED');
    expect(line).toMatch(/Sources: src0@abuse\.lit\/&+…, .* … and 50 more/);
    expect(Buffer.byteLength(line)).toBeLessThan(8_000);
    expect(disconnects).toBe(0);
  }, 30_000);

  it('gives up an owed stanza that cannot fit, with a line in the room, instead of sending it', async () => {
    // Owed since before the limit existed: a 280 KB inquiry answer already in the store's outbox.
    const seededConfig = await makeConfig('seeded');
    const store = await IncidentStore.open(seededConfig.storage.path);
    const payload = encodeIodef('report', { ...big, status: 'updated' }).toString();
    expect(Buffer.byteLength(payload)).toBeGreaterThan(4 * LIMIT);
    store.enqueue(outboxEntry({ to: `incidents@${PEER}/bot`, stanza: 'iq', iqType: 'set', payload, purpose: 'answer to inquiry' }));
    await store.commit();
    await store.close();
    const seeded = await launch(seededConfig);
    let lost = 0;
    seeded.xmpp.on('disconnect', () => (lost += 1));
    const room = await observeRoom(alice, seededConfig.rooms.default, 'alice-seeded');
    const line = await room.waitFor((b) => b.startsWith('Gave up delivering the answer to inquiry'), 10_000, 'the give-up line');
    expect(line).toMatch(new RegExp(`to incidents@${PEER}/bot after 1 attempts \\(last error: the IQ set stanza would be \\d+ bytes, over limits\\.maxStanzaBytes \\(${LIMIT}\\)\\)`));
    expect(seeded.store.outbox).toHaveLength(0);
    await sleep(300);
    expect(lost).toBe(0);
    expect(seeded.xmpp.status).toBe('online');
  }, 30_000);
});

/** Every character Unicode files as a control, a format character, a line or a paragraph separator — that XML can carry. */
function separators(): string[] {
  const found: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    if (!/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(c)) continue;
    const xmlChar = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000;
    if (xmlChar) found.push(c);
  }
  return found;
}
const UNSAFE_IN_BODY = /[\p{Zl}\p{Zp}\p{Cs}]|(?![\n])\p{Cc}|(?![\u200c\u200d])\p{Cf}/u;

describe('peer strings cannot fake a bot line', () => {
  it('every Unicode separator, control and format character, in every field of a report, stays inside its line', async () => {
    const all = separators();
    expect(all.length).toBeGreaterThan(150);
    expect(all).toEqual(expect.arrayContaining(['\n', '\r', '\u0085', '\u2028', '\u2029', '\u202e', '\u2066']));
    const fake = (chunk: string[]) => chunk.map((c) => `${c}#99999 NEW`).join('');
    const numbers: number[] = [];
    for (let start = 0; start < all.length; start += 20) {
      const chunk = all.slice(start, start + 20);
      const poison = fake(chunk);
      // Ids, sites and JIDs refuse C0 controls at decoding (XML carries only TAB, LF and CR of them): the rest go there.
      const label = fake(chunk.filter((c) => !/[\u0000-\u001f\u007f]/.test(c)));
      const inc: Incident = {
        ...sampleIncident(PEER),
        id: `x${start}${label}`,
        site: `${PEER}${label}`,
        admins: [`admin@${PEER}/${label}`],
        category: `muc${poison}`,
        types: [`presence${poison}`],
        sources: [jidNode(`spammer@abuse.lit/${label}`), jidNode(`other@abuse.lit/${label}`)],
        targets: [jidNode(`victim@${PEER}/${label}`)],
        texts: [{ lang: 'en', text: `flood${poison}` }],
      };
      const result = await sendRaw(mallory, 'report', inc);
      expect(result.attrs.type, result.toString()).toBe('result');
      const number = numberOf(bot, inc.id)!;
      numbers.push(number);
      await operators.waitFor((b) => b.startsWith(`#${number} NEW`), 8_000, `announcement #${number}`);
      await operators.say(`!show #${number}`);
      await operators.waitFor((b) => b.startsWith(`#${number} *`), 8_000, `!show #${number}`);
    }
    await operators.say('!list all');
    await operators.waitFor((b) => b.startsWith(`#${numbers.at(-1)} *`) && b.includes('sev '), 8_000, '!list all');
    const fromBot = operators.messages.filter((m) => m.nick === 'incident-bot').map((m) => m.body);
    const about = fromBot.filter((b) => numbers.some((n) => b.includes(`#${n} `)));
    expect(about.length).toBeGreaterThanOrEqual(2 * numbers.length + 1);
    for (const body of about) {
      expect(UNSAFE_IN_BODY.test(body), JSON.stringify(body.slice(0, 200))).toBe(false);
      for (const l of body.split('\n')) expect(l.startsWith('#99999 NEW'), JSON.stringify(l.slice(0, 100))).toBe(false);
    }
  }, 90_000);
});

describe('inquiries', () => {
  it('an inquiry about an incident only an untrusted sender reported gets item-not-found, and nothing is sent', async () => {
    const secret = sampleIncident(PEER, { texts: [{ lang: 'en', text: 'mallory only' }] });
    await recordPeer(mallory).sendIodef(botJid, 'report', secret);
    expect(numberOf(bot, secret.id)).toBeDefined();
    const err = await recorder.sendIodef(botJid, 'inquiry', { ...emptyIncident(secret.id), site: PEER }).then(
      () => undefined,
      (e: { condition?: string }) => e,
    );
    expect(err?.condition).toBe('item-not-found');
    await sleep(300);
    expect(recorder.received.some((r) => r.incident.id === secret.id)).toBe(false);
    expect(bot.store.outbox.some((e) => e.payload.includes(secret.id))).toBe(false);
  }, 20_000);
});

describe('multi-byte text', () => {
  it('10 reports of 4,000 emoji and 10 of 8,000 é are stored byte-identical, whatever the TCP chunking', async () => {
    const texts = [...Array.from({ length: 10 }, (_, i) => `${i}${'😀'.repeat(4000)}`), ...Array.from({ length: 10 }, (_, i) => `${i}${'é'.repeat(8000)}`)];
    const sent = texts.map((text) => sampleIncident(PEER, { texts: [{ lang: 'en', text: text.slice(0, 8190) }] }));
    await Promise.all(sent.map((inc) => recorder.sendIodef(botJid, 'report', inc)));
    const damaged = sent.filter((inc) => bot.store.getByNumber(numberOf(bot, inc.id)!)!.incident.texts[0]!.text !== inc.texts[0]!.text);
    expect(damaged.map((inc) => inc.texts[0]!.text.slice(0, 1))).toEqual([]);
  }, 30_000);
});

describe('IQ answers', () => {
  it('a result from another JID with the id of an owed revision does not complete it; the real peer’s does', async () => {
    const slow = await prosody.client({ username: 'slow', host: PEER, password: PASSWORD, resource: 'bot' });
    const inc = sampleIncident(PEER);
    // slow receives reports and does not answer them: its client holds them (no result, no error).
    slow.iqCallee.set(INCIDENT_NS, 'report', () => new Promise(() => undefined));
    await slow.iqCaller.request(xml('iq', { type: 'set', to: botJid }, encodeIodef('report', inc)), 10_000);
    const held = nextStanza(slow, (el) => el.is('iq') && el.attrs.type === 'set' && !!el.getChild('report', INCIDENT_NS), 8_000);
    const number = numberOf(bot, inc.id)!;
    await operators.say(`!ack #${number}`);
    const revision = await held;
    const id = String(revision.attrs.id);
    const eve = await prosody.client({ username: 'eve', host: PEER, password: PASSWORD, resource: 'x' });
    await eve.send(xml('iq', { type: 'result', id, to: botJid }));
    await sleep(500);
    expect(bot.store.outbox.filter((e) => e.to === `slow@${PEER}/bot`)).toHaveLength(1);
    await slow.send(xml('iq', { type: 'result', id, to: botJid }));
    await until(() => !bot.store.outbox.some((e) => e.to === `slow@${PEER}/bot`), 5_000, 'the revision to be delivered');
  }, 30_000);
});

describe('rate per domain', () => {
  it('a domain using several accounts is held to limits.reportsPerMinutePerDomain; another domain is not', async () => {
    const rateConfig = await makeConfig('ratebot', { limits: { reportsPerMinute: 60, burst: 5, reportsPerMinutePerDomain: 60, burstPerDomain: 8 } });
    await launch(rateConfig);
    const to = `ratebot@${HOME}/bot`;
    const one = recordPeer(await prosody.client({ username: 'one', host: RATE, password: PASSWORD, resource: 'bot' }));
    const two = recordPeer(await prosody.client({ username: 'two', host: RATE, password: PASSWORD, resource: 'bot' }));
    const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: { condition?: string; text?: string }) => `${e.condition}: ${e.text}`);
    const fromOne: string[] = [];
    for (let i = 0; i < 5; i++) fromOne.push(await outcome(one.sendIodef(to, 'report', sampleIncident(RATE))));
    expect(fromOne).toEqual(Array(5).fill('ok'));
    const fromTwo: string[] = [];
    for (let i = 0; i < 5; i++) fromTwo.push(await outcome(two.sendIodef(to, 'report', sampleIncident(RATE))));
    expect(fromTwo.slice(0, 3)).toEqual(Array(3).fill('ok'));
    expect(fromTwo[3]).toMatch(/^resource-constraint: too many reports from rate\.localhost: at most 60 a minute from one domain/);
    expect(await outcome(recorder.sendIodef(to, 'report', sampleIncident(PEER)))).toBe('ok');
  }, 30_000);
});
