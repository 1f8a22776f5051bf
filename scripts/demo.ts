/**
 * `npm run demo`: the bot on a throwaway local Prosody, with something to see.
 *
 * Starts Prosody (home.localhost = your deployment, peer.localhost = a peer's), the bot, a simulated peer that
 * sends XEP-0268's own example reports in both formats, and a console that joins the operators room as the admin
 * alice: room traffic is printed, typed lines are sent to the room (`/dm TEXT` sends a direct message to the bot,
 * `/reply N TEXT` and `/react N EMOJI` reply or react to the announcement of #N, `/quit` or Ctrl-C ends the demo and
 * removes everything).
 *
 * `--exit-after SECONDS` ends it by itself (used by the smoke test).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import xml from '@xmpp/xml';
import { Command } from 'commander';
import { startBot } from '../src/bot.js';
import { loadConfig } from '../src/core/config.js';
import { createLogger } from '../src/log.js';
import { parseXml } from '../src/protocol/xml.js';
import { nextStanza, startProsody, type Client, type Element } from '../dev-tools/prosody.js';
import { abuseReportMessage } from '../dev-tools/peers.js';
import { botConfigJson, observeRoom } from '../dev-tools/room.js';

const opts = new Command()
  .option('--exit-after <seconds>', 'end the demo by itself after this many seconds', Number)
  .parse()
  .opts<{ exitAfter?: number }>();

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'demo-password';
const LOBBY = `lobby@rtbl.${HOME}`;
const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  say('Starting a throwaway Prosody on 127.0.0.1 (home.localhost = you, peer.localhost = a peer)…');
  const prosody = await startProsody({ hosts: [HOME, PEER], rtbl: { publishers: [`incidents@${HOME}`] } });
  const workDir = await mkdtemp(join(tmpdir(), 'incident-bot-demo-'));
  for (const [user, host] of [
    ['incidents', HOME],
    ['alice', HOME],
    ['incidents', PEER],
    ['legacy', PEER],
    ['reports', PEER],
    ['spammer', PEER],
  ] as const) {
    await prosody.register(user, host, PASSWORD);
  }
  const room = `operators@${prosody.mucOf(HOME)}`;
  const configFile = join(workDir, 'bot.config.json');
  await writeFile(
    configFile,
    JSON.stringify(
      {
        ...botConfigJson({
          service: prosody.service,
          domain: HOME,
          username: 'incidents',
          password: PASSWORD,
          storagePath: join(workDir, 'incidents.json'),
          defaultRoom: room,
          allow: [`*@${prosody.mucOf(HOME)}`],
          admins: [`alice@${HOME}`],
          peers: [
            { jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' },
            { jid: `legacy@${PEER}`, trust: 'trusted', format: 'legacy' },
            // Stands in for peer.localhost's mod_report_forward (a client cannot send as the domain itself).
            { jid: `reports@${PEER}`, trust: 'trusted' },
          ],
        }),
        rtbl: { service: `pubsub.${HOME}` },
      },
      null,
      2,
    ),
  );
  const bot = await startBot(loadConfig(configFile), { log: createLogger(process.env.LOG_LEVEL ?? 'warn') });
  say(`Bot online as incidents@${HOME}/bot, in ${room}. Config: ${configFile}`);

  const alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'console' });
  const operators = await observeRoom(alice, room, 'alice');
  let printed = 0;
  const printRoom = () => {
    for (; printed < operators.messages.length; printed += 1) {
      const m = operators.messages[printed]!;
      say(`\n[${room}] <${m.nick}>\n  ${m.body.split('\n').join('\n  ')}`);
    }
  };
  // #N → the stanza-id the room gave its announcement: what a client's reply or reaction points at.
  const announcements = new Map<number, string>();
  alice.on('stanza', (el: Element) => {
    if (el.is('message') && el.attrs.type === 'groupchat') setImmediate(printRoom);
    const number = el.is('message') ? /^#(\d+) /.exec(el.getChildText('body') ?? '')?.[1] : undefined;
    const sid = el.getChildren('stanza-id', 'urn:xmpp:sid:0').find((x) => x.attrs.by === room)?.attrs.id as string | undefined;
    if (number && sid && el.attrs.from === `${room}/incident-bot` && !announcements.has(Number(number))) announcements.set(Number(number), sid);
    if (el.is('message') && el.attrs.type === 'chat' && el.getChildText('body')) {
      say(`\n[DM from ${String(el.attrs.from)}]\n  ${el.getChildText('body')!.split('\n').join('\n  ')}`);
    }
  });

  const peer = await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' });
  const legacyPeer = await prosody.client({ username: 'legacy', host: PEER, password: PASSWORD });
  peer.iqCallee.set('urn:xmpp:incident:2', 'report', () => true);
  await sendExamples(peer, legacyPeer, `incidents@${HOME}/bot`);
  const reports = await prosody.client({ username: 'reports', host: PEER, password: PASSWORD });
  const spammer = await prosody.client({ username: 'spammer', host: PEER, password: PASSWORD });
  // Alice owns the lobby on the mod_muc_rtbl MUC, so the spammer joins it unaffiliated (the module checks those).
  await observeRoom(alice, LOBBY, 'alice');
  await pause(400);
  say(`\nPeer server peer.localhost forwards two XEP-0377 spam reports about spammer@${PEER} (one incident, count 2)…`);
  await reports.send(abuseReportMessage(`incidents@${HOME}/bot`, `spammer@${PEER}`, 'cheap watches!'));
  await pause(300);
  await reports.send(abuseReportMessage(`incidents@${HOME}/bot`, `spammer@${PEER}`, 'cheap watches, again!'));
  await pause(300);
  say(`spammer@${PEER} tries ${LOBBY} (Prosody's mod_muc_rtbl): ${await tryJoin(spammer, LOBBY)}`);
  say('Block it: !block #N, then !block #N confirm (N from the report line above); !blocks lists the block list;');
  say('/spam makes the spammer try to join again (refused "forbidden" once blocked); !unblock #N lifts it.');

  say('\nType a line to send it to the room (try !help, !list), /dm TEXT to message the bot, /quit to stop.');
  say('Gestures, as Conversations, Gajim or Dino send them: /reply N !ack on it (a XEP-0461 reply to the announcement');
  say('of #N: the command needs no #N), /react N 👀 (a XEP-0444 reaction: 👀 acknowledges, any other does nothing).');
  let stopping = false;
  const cleanup = async () => {
    if (stopping) return;
    stopping = true;
    say('\nStopping the bot and Prosody, removing temp files…');
    await bot.stop();
    await prosody.stop();
    await rm(workDir, { recursive: true, force: true });
    say('Done.');
    process.exit(0);
  };
  // `on`, not `once`: tsx exits at once when a signal finds no listener left.
  process.on('SIGINT', () => void cleanup());
  process.on('SIGTERM', () => void cleanup());
  if (opts.exitAfter !== undefined) setTimeout(() => void cleanup(), opts.exitAfter * 1000);
  if (process.stdin.isTTY || opts.exitAfter === undefined) {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      const text = line.trim();
      if (!text) return;
      if (text === '/quit') return void cleanup();
      const gesture = /^\/(reply|react) #?(\d+) (.+)$/.exec(text);
      if (gesture) {
        const [, kind, n, rest] = gesture as unknown as [string, string, string, string];
        const id = announcements.get(Number(n));
        if (!id) return say(`No announcement of #${n} seen in this session.`);
        void alice.send(
          kind === 'reply'
            ? xml('message', { to: room, type: 'groupchat' }, xml('body', {}, rest), xml('reply', { xmlns: 'urn:xmpp:reply:0', to: `${room}/incident-bot`, id }))
            : xml('message', { to: room, type: 'groupchat' }, xml('reactions', { xmlns: 'urn:xmpp:reactions:0', id }, xml('reaction', {}, rest.trim()))),
        );
        return;
      }
      if (text === '/spam') {
        void tryJoin(spammer, LOBBY).then((outcome) => say(`spammer@${PEER} joining ${LOBBY}: ${outcome}`));
        return;
      }
      if (text.startsWith('/dm ')) {
        void alice.send(xml('message', { to: `incidents@${HOME}/bot`, type: 'chat' }, xml('body', {}, text.slice(4))));
        return;
      }
      void operators.say(text);
    });
    rl.on('close', () => void (opts.exitAfter === undefined && cleanup()));
  }
}

/** The XEP's own examples, as a peer would send them (payload only: from/to are the real stanza's). */
async function sendExamples(peer: Client, legacyPeer: Client, botJid: string): Promise<void> {
  const payloadOf = async (file: string): Promise<Element> => {
    const parsed = parseXml(await readFile(join(fixtures, file), 'utf8'));
    if (!parsed.ok) throw new Error(`fixture ${file}: ${parsed.error.message}`);
    const child = parsed.value.getChildElements()[0];
    if (!child) throw new Error(`fixture ${file} has no payload`);
    return child;
  };
  say('\nPeer legacy@peer.localhost sends the XEP-0268 v0.2 legacy report…');
  await legacyPeer.send(xml('message', { to: botJid }, await payloadOf('legacy/v0.2-report.xml')));
  await pause(400);
  say('Peer incidents@peer.localhost/bot sends the XEP-0268 v0.6 IODEF report…');
  await peer.iqCaller.request(xml('iq', { type: 'set', to: botJid }, await payloadOf('iodef/v0.6-report.xml')));
  await pause(400);
  say('…and a request for assistance (block-host)…');
  await peer.iqCaller.request(xml('iq', { type: 'get', to: botJid }, await payloadOf('iodef/v0.6-request.xml')));
  await pause(400);
  say('…and the legacy peer sends the v0.3 solution for its incident.');
  await legacyPeer.send(xml('message', { to: botJid }, await payloadOf('legacy/v0.3-solution.xml')));
}

/** One join attempt (and leaving again): 'joined', or the error condition the MUC answered with. */
async function tryJoin(client: Client, room: string): Promise<string> {
  const to = `${room}/spammer`;
  const answer = nextStanza(client, (el: Element) => el.is('presence') && String(el.attrs.from) === to, 10_000);
  await client.send(xml('presence', { to }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  const el = await answer;
  if (el.attrs.type === 'error') return `refused: ${el.getChild('error')?.getChildElements()[0]?.name ?? 'error'}`;
  await client.send(xml('presence', { to, type: 'unavailable' }));
  return 'joined';
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
