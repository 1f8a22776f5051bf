/**
 * A big outbox toward a peer that is down, on a real Prosody: the bot backs off per peer (one probe at a time, the
 * rest waiting for it), logs one line per backoff step instead of one per entry, keeps answering commands, and
 * delivers the backlog at a bounded pace once the peer is back.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Element } from '@xmpp/xml';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { parseConfig, type Config } from '../../src/core/config.js';
import { outboxEntry } from '../../src/core/outbox.js';
import { IncidentStore } from '../../src/core/store.js';
import { encodeIodef, INCIDENT_NS } from '../../src/protocol/iodef.js';
import { sleep, startProsody, until, type Prosody } from '../../dev-tools/prosody.js';
import { sampleIncident } from '../../dev-tools/peers.js';
import { botConfigJson, observeRoom } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'Outbox-pw-8812';
const OWED = 2_000;
const DOWN = `down@${PEER}/bot`;

let prosody: Prosody;
let bot: Bot;
let config: Config;
const logLines: string[] = [];


beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER] });
  for (const [user, host] of [['incidents', HOME], ['alice', HOME], ['down', PEER]] as const) await prosody.register(user, host, PASSWORD);
  const json = botConfigJson({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(await mkdtemp(join(tmpdir(), 'outbox-load-')), 'incidents.json'),
    defaultRoom: `ops@${prosody.mucOf(HOME)}`,
    admins: [`alice@${HOME}`],
    peers: [{ jid: DOWN, trust: 'trusted', format: 'iodef' }],
  });
  config = parseConfig({ ...json, outbox: { retryMinSeconds: 0.2, retryMaxSeconds: 0.4 } });
  // 2,000 inquiry answers owed to a peer whose bot is not online: its server answers each with service-unavailable.
  const store = await IncidentStore.open(config.storage.path);
  for (let i = 0; i < OWED; i++) {
    const payload = encodeIodef('report', { ...sampleIncident(PEER), status: 'updated' }).toString();
    store.enqueue(outboxEntry({ to: DOWN, stanza: 'iq', iqType: 'set', payload, purpose: 'answer to inquiry' }));
  }
  await store.commit();
  await store.close();
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await prosody?.stop();
});

describe('2,000 stanzas owed to a peer that is down', () => {
  it('one probe at a time, one log line per backoff step, commands answered; the backlog flows once the peer is back', async () => {
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString()), done()) }));
    let toDown = 0;
    let sent = 0;
    const onSend = (el: Element) => {
      sent += 1;
      if (el.is('iq') && el.attrs.to === DOWN) toDown += 1;
    };
    bot = await startBot(config, { log, roomIntervalMs: 20 });
    bot.xmpp.on('send', onSend);
    const alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'desk' });
    const room = await observeRoom(alice, config.rooms.default, 'alice');
    await room.waitForOccupant('incident-bot');

    const t0 = performance.now();
    await sleep(3_000);
    const seconds = (performance.now() - t0) / 1000;
    // Backoff 0.2 s doubling to 0.4 s: at most one probe per 0.2 s, plus the first.
    expect(toDown).toBeGreaterThanOrEqual(3);
    expect(toDown).toBeLessThanOrEqual(Math.ceil(seconds / 0.2) + 2);
    const aboutDown = logLines.filter((l) => l.includes('down@'));
    expect(aboutDown.length).toBeLessThanOrEqual(toDown + 2);
    expect(aboutDown.some((l) => l.includes('peer not reachable') && l.includes(`"waiting":${OWED}`))).toBe(true);
    expect(bot.store.outbox).toHaveLength(OWED);

    await room.say('!outbox');
    await room.waitFor((b) => b.startsWith(`${OWED} stanzas owed to peers:`), 5_000, 'the !outbox reply');
    expect(sent).toBeLessThan(100);

    // The peer comes back: everything is delivered, never more than 32 in flight at once.
    const down = await prosody.client({ username: 'down', host: PEER, password: PASSWORD, resource: 'bot' });
    let inFlight = 0;
    let maxInFlight = 0;
    let received = 0;
    down.iqCallee.set(INCIDENT_NS, 'report', async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(5);
      inFlight -= 1;
      received += 1;
      return true;
    });
    await until(() => bot.store.outbox.length === 0, 60_000, 'the backlog to be delivered');
    expect(received).toBe(OWED);
    expect(maxInFlight).toBeLessThanOrEqual(32);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(logLines.filter((l) => l.includes('peer reachable again'))).toHaveLength(1);
  }, 120_000);
});
