/**
 * TLS toward the server, on a real Prosody whose home.localhost requires STARTTLS with a certificate made for the
 * run by a throwaway CA (openssl, see HarnessTls). The bot's account lives there; the peer and the admin watching
 * the room live on peer.localhost, which stays cleartext (harness clients trust only public CAs).
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleBot, type AssembledBot } from '../../src/bot.js';
import { loadConfig, type Config } from '../../src/core/config.js';
import { createLogger } from '../../src/log.js';
import { StartupError } from '../../src/xmpp/connection.js';
import { startProsody, type Prosody } from '../../dev-tools/prosody.js';
import { recordPeer, sampleIncident } from '../../dev-tools/peers.js';
import { botConfigJson, observeRoom } from '../../dev-tools/room.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'tls-secret-pw';
const root = new URL('../../', import.meta.url).pathname;

let prosody: Prosody;
let dir: string;

beforeAll(async () => {
  prosody = await startProsody({ hosts: [HOME, PEER], tls: { hosts: [HOME], directTls: true } });
  await prosody.register('incidents', HOME, PASSWORD);
  await prosody.register('alice', PEER, PASSWORD);
  await prosody.register('reporter', PEER, PASSWORD);
  dir = await mkdtemp(join(tmpdir(), 'incident-bot-tls-'));
  await copyFile(prosody.caFile!, join(dir, 'ca.pem'));
}, 60_000);

afterAll(async () => {
  await prosody?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Writes `<name>.config.json` in the test folder for `server`, changed by `patch`. */
async function writeConfig(name: string, server: Prosody, patch: (c: Record<string, any>) => void = () => undefined): Promise<string> {
  const json = botConfigJson({
    service: server.service,
    domain: HOME,
    username: 'incidents',
    password: PASSWORD,
    storagePath: join(dir, `${name}.json`),
    defaultRoom: `ops-${name}@conference.${HOME}`,
    admins: [`alice@${PEER}`],
    peers: [{ jid: `reporter@${PEER}/bot`, trust: 'trusted', format: 'iodef' }],
  });
  patch(json);
  const file = join(dir, `${name}.config.json`);
  await writeFile(file, JSON.stringify(json));
  return file;
}

/** Runs the real entry point to its end (these runs stop by themselves: start-up fails or --check-config). */
function runBot(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: root, env: { ...process.env, LOG_FORMAT: 'json' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A bot not yet started, with every string it writes to the server recorded (stream headers, TLS, SASL, stanzas). */
async function assembleRecording(config: Config, lines: string[] = []) {
  const log = createLogger({ level: 'debug', format: 'json', out: { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream });
  const bot = await assembleBot(config, { log, roomIntervalMs: 20 });
  const written: string[] = [];
  const write = bot.xmpp.write.bind(bot.xmpp);
  bot.xmpp.write = (s: string) => {
    written.push(s);
    return write(s);
  };
  return { bot, written, lines };
}

/** What the password would look like on the wire in a SASL exchange (PLAIN's base64 authzid\0user\0password). */
const plainToken = Buffer.from(`\0incidents\0${PASSWORD}`).toString('base64');

describe('TLS toward the server', () => {
  let bot: AssembledBot | undefined;
  afterAll(async () => bot?.stop());

  it('logs in over STARTTLS trusting the CA of xmpp.tls.caFile, and a report and its !ack go through', async () => {
    const file = await writeConfig('ok', prosody, (c) => (c.xmpp.tls = { caFile: 'ca.pem' }));
    const config = loadConfig(file, { env: {} });
    expect(config.xmpp.tls?.caFile).toBe(join(dir, 'ca.pem'));
    const recording = await assembleRecording(config);
    bot = recording.bot;
    await bot.start();

    // The stream is encrypted, the certificate was verified, and it is the one made for home.localhost.
    expect(bot.xmpp.isSecure()).toBe(true);
    const tlsSocket = (bot.xmpp.socket as unknown as { socket: TLSSocket }).socket;
    expect(tlsSocket.authorized).toBe(true);
    expect(tlsSocket.getPeerCertificate().subjectaltname).toBe(`DNS:${HOME}`);
    const written = recording.written.join('');
    expect(written.indexOf('<starttls')).toBeGreaterThanOrEqual(0);
    expect(written.indexOf('<auth')).toBeGreaterThan(written.indexOf('<starttls'));

    const alice = await prosody.client({ username: 'alice', host: PEER, password: PASSWORD });
    const room = await observeRoom(alice, config.rooms.default, 'alice');
    await room.waitForOccupant('incident-bot');
    const reporter = recordPeer(await prosody.client({ username: 'reporter', host: PEER, password: PASSWORD, resource: 'bot' }));
    const inc = sampleIncident(PEER);
    await reporter.sendIodef(`incidents@${HOME}/bot`, 'report', inc);
    const announced = await room.waitFor((b) => b.includes(inc.id) && / NEW incident/.test(b));
    const number = /^#(\d+) /.exec(announced)?.[1];
    expect(number).toBeDefined();
    await room.say(`!ack #${number} seen over TLS`);
    const revision = await reporter.waitFor((r) => r.incident.id === inc.id && r.kind === 'report');
    expect(revision.status).toBe('updated');
    await room.waitFor((b) => b.startsWith(`#${number} acknowledged`));

    const logs = recording.lines.join('');
    expect(logs).toMatch(/"encrypted":true,"tls":"TLSv1\.[23]","msg":"logged in"/);
    expect(logs).not.toContain(PASSWORD);
  });

  it('logs in with direct TLS (xmpps://), checking the certificate against the XMPP domain, not the address dialled', async () => {
    const file = await writeConfig('direct', prosody, (c) => {
      c.xmpp.service = prosody.directTlsService;
      c.xmpp.resource = 'direct';
      c.xmpp.tls = { caFile: 'ca.pem' };
    });
    const { bot: direct, written } = await assembleRecording(loadConfig(file, { env: {} }));
    try {
      await direct.start();
      expect(direct.xmpp.isSecure()).toBe(true);
      const tlsSocket = (direct.xmpp.socket as unknown as { socket: TLSSocket }).socket;
      expect(tlsSocket.authorized).toBe(true);
      // 127.0.0.1 is not in the certificate: only a check against home.localhost passes.
      expect(tlsSocket.servername).toBe(HOME);
      expect(written.join('')).not.toContain('<starttls');
    } finally {
      await direct.stop();
    }
  });

  it('refuses a certificate issued for another name: exit 1, the mismatch named, the password never sent', async () => {
    const wrong = await startProsody({ hosts: [HOME], muc: false, tls: { certNames: ['wrong.example'] } });
    try {
      await wrong.register('incidents', HOME, PASSWORD);
      const file = await writeConfig('wrongname', wrong, (c) => (c.xmpp.tls = { caFile: wrong.caFile }));
      const run = await runBot(['--config', file]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/refusing the TLS certificate of xmpp:\/\/127\.0\.0\.1:\d+, the password was not sent/);
      expect(run.stderr).toMatch(/not issued for the XMPP domain home\.localhost \(ERR_TLS_CERT_ALTNAME_INVALID: .*wrong\.example/);
      expect(`${run.stdout}${run.stderr}`).not.toContain(PASSWORD);

      // The same, in process, with what went on the wire: STARTTLS asked for, nothing of SASL after it.
      const { bot: refused, written } = await assembleRecording(loadConfig(file, { env: {} }));
      const err = await refused.start().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(StartupError);
      expect(written.join('')).toContain('<starttls');
      expect(written.join('')).not.toContain('<auth');
      expect(written.join('')).not.toContain(plainToken);
      expect(written.join('')).not.toContain(PASSWORD);
      const serverLog = await readFile(join(wrong.dir, 'prosody.log'), 'utf8');
      expect(serverLog).toContain('Client connected');
      expect(serverLog).not.toContain('Authenticated as');
    } finally {
      await wrong.stop();
    }
  });

  it('refuses the server when its CA is not configured: verification is really on', async () => {
    const file = await writeConfig('noca', prosody);
    const run = await runBot(['--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/it is signed by no CA the bot trusts \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(run.stderr).toContain('set xmpp.tls.caFile');
    expect(`${run.stdout}${run.stderr}`).not.toContain(PASSWORD);
  });
});

describe('xmpp.tls.caFile on the command line', () => {
  it('--check-config shows it resolved against the config folder', async () => {
    const file = await writeConfig('check', prosody, (c) => (c.xmpp.tls = { caFile: 'ca.pem' }));
    const run = await runBot(['--check-config', '--config', file]);
    expect(run.code).toBe(0);
    const shown = JSON.parse(run.stdout) as Config;
    expect(shown.xmpp.tls).toEqual({ caFile: join(dir, 'ca.pem') });
    expect(run.stdout).not.toContain(PASSWORD);
  });

  it('a CA file that does not exist is exit 2 naming the key', async () => {
    const file = await writeConfig('missingca', prosody, (c) => (c.xmpp.tls = { caFile: 'nowhere/ca.pem' }));
    const run = await runBot(['--check-config', '--config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/xmpp\.tls\.caFile: cannot read .*nowhere\/ca\.pem/);
  });
});
