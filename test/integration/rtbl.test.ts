/**
 * From abuse report to block, end to end on a real Prosody: a forwarded XEP-0377 report becomes one incident
 * (a second one is grouped into it), `!block` + `confirm` publishes on a real pubsub node, and Prosody's own
 * mod_muc_rtbl (Debian prosody-modules), subscribed to that node, refuses the spammer's join; `!unblock` lets it in.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { parseConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/log.js';
import { nextStanza, sleep, startProsody, until, type Client, type Element, type Prosody } from '../../dev-tools/prosody.js';
import { abuseReportMessage } from '../../dev-tools/peers.js';
import { rtblHash } from '../../src/mitigation/rtbl.js';
import { followedListsOf } from '../../src/mitigation/rtbl-follow.js';
import { botConfigJson, observeRoom, type RoomObserver } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 's3cret-pw';
const BOT = `incidents@${HOME}`;
const SPAMMER = `spammer@${PEER}`;
const LOBBY = `lobby@rtbl.${HOME}`;

let prosody: Prosody;
let bot: Bot;
let alice: Client;
let spammer: Client;
let reporter: Client;
let operators: RoomObserver;

/** Joins the lobby and leaves again: 'joined', or the error condition Prosody answered with. */
async function tryJoin(client: Client, nick: string): Promise<string> {
  const to = `${LOBBY}/${nick}`;
  const answer = nextStanza(client, (el: Element) => el.is('presence') && String(el.attrs.from) === to, 10_000);
  await client.send(xml('presence', { to }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  const el = await answer;
  if (el.attrs.type === 'error') return el.getChild('error')?.getChildElements()[0]?.name ?? 'error';
  await client.send(xml('presence', { to, type: 'unavailable' }));
  return 'joined';
}

/** Sends a command to the bot by direct message and resolves with its answer. */
async function command(text: string): Promise<string> {
  const answer = nextStanza(alice, (el: Element) => el.is('message') && String(el.attrs.from).startsWith(BOT) && !!el.getChildText('body'), 10_000);
  await alice.send(xml('message', { to: `${BOT}/bot`, type: 'chat' }, xml('body', {}, text)));
  return (await answer).getChildText('body') ?? '';
}

/**
 * The pubsub service answers the publish before its notification has reached the MUC service: wait for the join
 * outcome Prosody gives once the notification has been applied (each try is a real join attempt).
 */
async function joinOutcomeBecomes(client: Client, wanted: string): Promise<string> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    last = await tryJoin(client, `try${i}`);
    if (last === wanted) return last;
    await sleep(100);
  }
  return last;
}

/** What to look at when Prosody did not apply the list: the bot's counters and Prosody's RTBL and pubsub lines. */
async function diagnostics(): Promise<string> {
  const log = await readFile(join(prosody.dir, 'prosody.log'), 'utf8').catch(() => '');
  const lines = log.split('\n').filter((l) => /rtbl|pubsub/i.test(l));
  return `bot stats ${JSON.stringify(Object.fromEntries(bot.stats))}\n${lines.slice(-20).join('\n')}`;
}

const rtblOwed = () => bot.store.outbox.filter((e) => e.purpose.startsWith('rtbl ')).length;

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER], rtbl: { publishers: [BOT, `alice@${HOME}`] } });
  for (const [user, host] of [['incidents', HOME], ['alice', HOME], ['spammer', PEER], ['reports', PEER]] as const) {
    await prosody.register(user, host, PASSWORD);
  }
  // Someone else's list the bot follows (rtbl.follow), already naming the spammer before the bot starts.
  alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD });
  const item = xml('item', { id: rtblHash(SPAMMER) }, xml('report', { xmlns: 'urn:xmpp:reporting:1', reason: 'urn:xmpp:reporting:spam' }));
  await alice.iqCaller.request(
    xml('iq', { type: 'set', to: `pubsub.${HOME}` }, xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' }, xml('create', { node: 'public_list' }))),
    10_000,
  );
  await alice.iqCaller.request(
    xml('iq', { type: 'set', to: `pubsub.${HOME}` }, xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' }, xml('publish', { node: 'public_list' }, item))),
    10_000,
  );
  const storagePath = join(await mkdtemp(join(tmpdir(), 'incident-bot-rtbl-')), 'incidents.json');
  const config = parseConfig({
    ...botConfigJson({
      service: prosody.service,
      domain: HOME,
      username: 'incidents',
      password: PASSWORD,
      storagePath,
      defaultRoom: `operators@${prosody.mucOf(HOME)}`,
      admins: [`alice@${HOME}`],
      peers: [{ jid: `reports@${PEER}`, trust: 'trusted' }],
    }),
    rtbl: { service: `pubsub.${HOME}`, follow: [{ service: `pubsub.${HOME}`, node: 'public_list' }] },
  });
  bot = await startBot(config, { log: silentLogger(), roomIntervalMs: 20 });
  spammer = await prosody.client({ username: 'spammer', host: PEER, password: PASSWORD });
  reporter = await prosody.client({ username: 'reports', host: PEER, password: PASSWORD });
  operators = await observeRoom(alice, config.rooms.default, 'alice');
  await operators.waitForOccupant('incident-bot');
  // Alice owns the lobby, so the spammer joins it unaffiliated (mod_muc_rtbl never checks affiliated users).
  await observeRoom(alice, LOBBY, 'alice-lobby');
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await prosody?.stop();
});

describe('abuse reports in, block list out (Prosody mod_muc_rtbl)', () => {
  it('groups reports into one incident, and a confirmed !block makes Prosody refuse the spammer', async () => {
    expect(await tryJoin(spammer, 'spam1')).toBe('joined');

    await until(() => followedListsOf(bot.config)?.listingsOf(SPAMMER).length === 1, 10_000, 'the followed list fetched');
    await reporter.send(abuseReportMessage(`${BOT}/bot`, SPAMMER, 'buy cheap watches'));
    const first = await operators.waitFor((b) => b.includes(`spam by ${SPAMMER}`), 10_000);
    expect(first).toMatch(/^#\d+ spam by spammer@peer\.localhost — 1 report from 1 server — listed on pubsub\.home\.localhost\/public_list since 20/);
    const number = Number(/^#(\d+)/.exec(first)![1]);

    await reporter.send(abuseReportMessage(`${BOT}/bot`, SPAMMER, 'buy cheap watches again'));
    await until(() => bot.store.getByNumber(number)?.abuse?.count === 2, 10_000, 'the second report grouped');
    expect(bot.store.findOpenBySource(SPAMMER)?.number).toBe(number);
    expect(bot.store.getByNumber(number)!.abuse!.evidence.map((e) => e.text)).toEqual(['buy cheap watches', 'buy cheap watches again']);

    expect(await command(`show #${number}`)).toContain(`Listed: ${SPAMMER} on pubsub.${HOME}/public_list since`);
    const plan = await command(`block #${number}`);
    expect(plan).toContain(`would block: ${SPAMMER}`);
    expect(rtblOwed()).toBe(0);
    expect(await command(`block #${number} confirm`)).toContain('published');
    await until(() => rtblOwed() === 0, 15_000, 'the publish answered by the pubsub service');
    expect(await joinOutcomeBecomes(spammer, 'forbidden'), await diagnostics()).toBe('forbidden');

    const listed = await command('blocks');
    expect(listed).toContain(`${SPAMMER} — #${number} — by alice@${HOME}`);
    const history = bot.store.getByNumber(number)!.incident.history;
    expect(history.map((h) => h.action)).toContain('block-host');

    expect(await command(`unblock #${number}`)).toContain('retracted');
    await until(() => rtblOwed() === 0, 15_000, 'the retract answered by the pubsub service');
    expect(await joinOutcomeBecomes(spammer, 'joined'), await diagnostics()).toBe('joined');
  }, 90_000);

  it('refuses to block an admin', async () => {
    const stored = bot.store.findOpenBySource(SPAMMER)!;
    expect(await command(`block #${stored.number} alice@${HOME}`)).toContain('refused');
  });
});
