/**
 * The bot as an operator runs it: `npm start -- --config FILE`, exit codes, the password from the environment,
 * and the `untrusted: "reject"` policy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { silentLogger } from '../../src/log.js';
import { emptyIncident } from '../../src/protocol/incident.js';
import { encodeIodef } from '../../src/protocol/iodef.js';
import { encodeLegacy } from '../../src/protocol/legacy.js';
import { startProsody, type Prosody } from '../../dev-tools/prosody.js';
import { botConfig, botConfigJson, observeRoom } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'cli-secret-pw';
const root = new URL('../../', import.meta.url).pathname;

let prosody: Prosody;
let dir: string;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** What `until` gets: the running process and what it has written to stdout so far. */
interface Running {
  child: ChildProcess;
  stdout(): string;
}

/** Runs the real entry point; `until` lets a test act while it runs, then it is sent SIGTERM. */
function runBot(args: string[], env: Record<string, string> = {}, until?: (running: Running) => Promise<void>, viaNpm = false): Promise<Run> {
  // Its own process group, signalled as a whole like a terminal's Ctrl-C or systemd's stop would (npm does not
  // reliably relay a signal sent to its pid alone).
  const options = { cwd: root, env: { ...process.env, ...env }, detached: true };
  const child = viaNpm
    ? spawn('npm', ['start', '--silent', '--', ...args], options)
    : spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], options);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  if (until) {
    void until({ child, stdout: () => stdout }).finally(() => process.kill(-child.pid!, 'SIGTERM'));
  }
  return exited;
}

async function writeConfig(name: string, patch: (c: Record<string, any>) => void = () => undefined): Promise<string> {
  const json = botConfigJson({
    service: prosody.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(dir, `${name}.json`),
    defaultRoom: `ops@${prosody.mucOf(HOME)}`,
    peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
  });
  patch(json);
  const file = join(dir, `${name}.config.json`);
  await writeFile(file, JSON.stringify(json));
  return file;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER] });
  await prosody.register('incidents', HOME, PASSWORD);
  await prosody.register('alice', HOME, PASSWORD);
  await prosody.register('incidents', PEER, PASSWORD);
  await prosody.register('stranger', PEER, PASSWORD);
  dir = await mkdtemp(join(tmpdir(), 'incident-bot-cli-'));
}, 60_000);

afterAll(async () => {
  await prosody?.stop();
});

describe('the command line', () => {
  it('exits 2 on an invalid config and names the key', async () => {
    const file = await writeConfig('bad', (c) => {
      c.untrusted = 'maybe';
      c.rooms.default = 'not a room';
    });
    const run = await runBot(['--config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('untrusted');
    expect(run.stderr).toContain('rooms.default');
  });

  it('exits 1 with a clear message on a wrong password, without retrying forever', async () => {
    const file = await writeConfig('wrongpw', (c) => (c.xmpp.password = 'not-the-password'));
    const run = await runBot(['--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/login refused .*wrong username or password/);
    expect(run.stderr).not.toContain('not-the-password');
  });

  it('exits 1 with a clear message when the server is unreachable', async () => {
    const port = await freePort();
    const file = await writeConfig('unreachable', (c) => (c.xmpp.service = `xmpp://127.0.0.1:${port}`));
    const run = await runBot(['--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot reach the XMPP server at xmpp:\/\/127\.0\.0\.1:\d+/);
  });

  it('refuses to send the password in the clear to a server that is not on loopback, unless allowPlaintext', async () => {
    // On Linux a connection to 0.0.0.0 reaches the local server, while the address does not name loopback.
    const nonLoopback = prosody.service.replace('127.0.0.1', '0.0.0.0');
    const file = await writeConfig('cleartext', (c) => (c.xmpp.service = nonLoopback));
    const run = await runBot(['--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refusing to send the password in the clear/);
    const allowed = await writeConfig('allowplain', (c) => {
      c.xmpp.service = nonLoopback;
      c.xmpp.allowPlaintext = true;
      c.rooms.default = `ops-plain@${prosody.mucOf(HOME)}`;
    });
    const alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'plain' });
    const room = await observeRoom(alice, `ops-plain@${prosody.mucOf(HOME)}`, 'alice');
    const ok = await runBot(['--config', allowed], {}, () => room.waitForOccupant('incident-bot', 20_000));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('LOGGING IN WITHOUT TLS');
  }, 40_000);

  it('runs with `npm start -- --config FILE` and takes the password from INCIDENT_BOT_PASSWORD', async () => {
    const file = await writeConfig('npmstart', (c) => delete c.xmpp.password);
    const alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'cli' });
    const room = await observeRoom(alice, `ops@${prosody.mucOf(HOME)}`, 'alice');
    let joined = false;
    const run = await runBot(['--config', file], { INCIDENT_BOT_PASSWORD: PASSWORD }, async () => {
      await room.waitForOccupant('incident-bot', 20_000);
      joined = true;
    }, true);
    expect(joined).toBe(true);
    expect(run.stdout).toContain('"msg":"bot started"');
    expect(`${run.stdout}${run.stderr}`).not.toContain(PASSWORD);
  }, 40_000);

  it('leaves its rooms and exits 0 on SIGTERM', async () => {
    const file = await writeConfig('sigterm', (c) => (c.rooms.default = `ops-sigterm@${prosody.mucOf(HOME)}`));
    const alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'sigterm' });
    const room = await observeRoom(alice, `ops-sigterm@${prosody.mucOf(HOME)}`, 'alice');
    const run = await runBot(['--config', file], {}, () => room.waitForOccupant('incident-bot', 20_000));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"msg":"shutting down"');
    await new Promise((r) => setTimeout(r, 200));
    expect(room.occupants.has('incident-bot')).toBe(false);
  }, 40_000);
});

describe('SIGHUP', () => {
  /** Polls until `check` holds (the bot logs and joins asynchronously); throws with `what` after 20 s. */
  async function eventually(what: string, check: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
    if (!check()) throw new Error(`not seen in 20 s: ${what}`);
  }

  it('re-reads the file: an invalid one changes nothing, a new operators room is joined and a removed one left, on one connection', async () => {
    const extra = `ops-hup-extra@${prosody.mucOf(HOME)}`;
    const file = await writeConfig('sighup', (c) => (c.rooms.default = `ops-hup@${prosody.mucOf(HOME)}`));
    const alice = await prosody.client({ username: 'alice', host: HOME, password: PASSWORD, resource: 'sighup' });
    const room = await observeRoom(alice, `ops-hup@${prosody.mucOf(HOME)}`, 'alice');
    const extraRoom = await observeRoom(alice, extra, 'alice');
    const reloads = (stdout: string) => stdout.split('\n').filter((l) => l.includes('"msg":"configuration reload"'));
    const rewrite = async (patch: (c: Record<string, any>) => void) => {
      const json = JSON.parse(await readFile(file, 'utf8'));
      patch(json);
      await writeFile(file, JSON.stringify(json));
    };
    const run = await runBot(['--config', file], {}, async ({ child, stdout }) => {
      await room.waitForOccupant('incident-bot', 20_000);
      await rewrite((c) => {
        c.rooms.operators = [extra];
        c.rooms.maxJoined = 0;
      });
      child.kill('SIGHUP');
      await eventually('the refused reload', () => reloads(stdout()).length === 1);
      expect(extraRoom.occupants.has('incident-bot')).toBe(false);
      await rewrite((c) => (c.rooms.maxJoined = 20));
      child.kill('SIGHUP');
      await extraRoom.waitForOccupant('incident-bot', 20_000);
      await rewrite((c) => (c.rooms.operators = []));
      child.kill('SIGHUP');
      await eventually('the bot leaving the removed room', () => !extraRoom.occupants.has('incident-bot'));
    });
    expect(run.code).toBe(0);
    const [refused, applied, removed] = reloads(run.stdout).map((l) => JSON.parse(l) as { ok: boolean; result: string });
    expect(refused).toMatchObject({ ok: false });
    expect(refused!.result).toContain('rooms.maxJoined');
    expect(applied).toMatchObject({ ok: true });
    expect(applied!.result).toContain('rooms changed and applied');
    expect(removed).toMatchObject({ ok: true });
    // Never reconnected: one stream from start to stop.
    expect(run.stdout.split('\n').filter((l) => l.includes('"msg":"online"'))).toHaveLength(1);
  }, 60_000);
});

describe('untrusted: reject', () => {
  let bot: Bot;
  beforeAll(async () => {
    bot = await startBot(
      botConfig({
        service: prosody.service,
        domain: HOME,
        username: 'incidents',
        password: PASSWORD,
        storagePath: join(dir, 'reject.json'),
        defaultRoom: `ops-reject@${prosody.mucOf(HOME)}`,
        peers: [{ jid: `incidents@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
        untrusted: 'reject',
      }),
      { log: silentLogger() },
    );
  });
  afterAll(async () => bot?.stop());

  it('refuses an IODEF report from an untrusted sender with forbidden and a text, and stores nothing', async () => {
    const stranger = await prosody.client({ username: 'stranger', host: PEER, password: PASSWORD });
    const inc = { ...emptyIncident(randomUUID()), site: PEER };
    const err = (await stranger.iqCaller
      .request(xml('iq', { type: 'set', to: `incidents@${HOME}/bot` }, encodeIodef('report', inc)))
      .then(() => undefined, (e: unknown) => e)) as { condition?: string; text?: string };
    expect(err?.condition).toBe('forbidden');
    expect(err?.text).toContain('not a trusted peer');
    // A legacy message from the same sender is dropped.
    await stranger.send(xml('message', { to: `incidents@${HOME}/bot` }, encodeLegacy({ ...emptyIncident(randomUUID()), site: PEER })));
    // Stanzas from one stream are handled in order: once a later IQ is answered, the message has been processed.
    await stranger.iqCaller.request(xml('iq', { type: 'get', to: `incidents@${HOME}/bot` }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    expect(bot.store.size).toBe(0);
    const peer = await prosody.client({ username: 'incidents', host: PEER, password: PASSWORD, resource: 'bot' });
    const trusted = { ...emptyIncident(randomUUID()), site: PEER };
    await peer.iqCaller.request(xml('iq', { type: 'set', to: `incidents@${HOME}/bot` }, encodeIodef('report', trusted)));
    expect(bot.store.list().map((s) => s.incident.id)).toEqual([trusted.id]);
  });
});
