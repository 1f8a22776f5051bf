/**
 * docs/deploying.md's ejabberd section, followed word for word on a real ejabberd 23.01, so the manual cannot drift:
 * the command blocks between its `<!-- ejabberd-…:begin -->` / `:end` markers are read from the file and run by
 * `sh -e` unchanged, for the domain the manual uses (example.org: on loopback no DNS is involved).
 *
 * - `ejabberd-tls`: the openssl commands run in a scratch folder; the harness's ejabberd then serves the
 *   example.org.pem they made (in place of the manual's install step and `certfiles` line).
 * - `ejabberd-room-defaults`: the harness's mod_muc runs with those `default_room_options`.
 * - `ejabberd-setup`: the ejabberdctl commands, with the harness's bin folder first in PATH: its `ejabberdctl` is
 *   Debian's ejabberdctl with this instance's `--ctl-config` (as root; see dev-tools/ejabberd.ts otherwise).
 * Then the bot, configured as the manual says (STARTTLS, `xmpp.tls.caFile` = the ca.pem made above), logs in, is in
 * the members-only room, and sees the admin's real JID. The manual's claim about `reload_config` and certificates
 * is checked too.
 *
 * First, the harness's own promise: a test process that dies leaves no ejabberd running.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../src/bot.js';
import { parseConfig } from '../../src/core/config.js';
import { until, withTimeout } from '../../dev-tools/clients.js';
import { startEjabberd, type Ejabberd } from '../../dev-tools/ejabberd.js';
import { startNodeProcess } from '../../dev-tools/node-process.js';
import { botConfigJson, observeRoom } from '../../dev-tools/room.js';

const root = new URL('../../', import.meta.url).pathname;
const execFileP = promisify(execFile);

/** The fenced code block between `<!-- NAME:begin … -->` and `<!-- NAME:end -->` in docs/deploying.md. */
async function manualBlock(name: string): Promise<string> {
  const doc = await readFile(join(root, 'docs', 'deploying.md'), 'utf8');
  const begin = doc.indexOf(`<!-- ${name}:begin`);
  const end = doc.indexOf(`<!-- ${name}:end -->`);
  if (begin < 0 || end < begin) throw new Error(`docs/deploying.md has no ${name} block`);
  const fenced = /```[a-z]*\n([\s\S]*?)```/.exec(doc.slice(begin, end));
  if (!fenced) throw new Error(`the ${name} block of docs/deploying.md has no code block`);
  return fenced[1]!;
}

/** Runs a manual's shell block with `sh -e` (stops at the first failing command), in `cwd`. */
async function runManual(block: string, cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout, stderr } = await execFileP('sh', ['-e', '-c', block], { cwd, env, timeout: 60_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`the manual's commands failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** `key: value` lines of the manual's default_room_options block. */
function roomDefaultsOf(yaml: string): Record<string, string | boolean> {
  const lines = yaml.split('\n');
  const at = lines.findIndex((l) => l.trim() === 'default_room_options:');
  const options: Record<string, string | boolean> = {};
  for (const line of lines.slice(at + 1)) {
    const m = /^\s+([a-z_]+):\s*(\S+)\s*$/.exec(line);
    if (!m) break;
    options[m[1]!] = m[2] === 'true' ? true : m[2] === 'false' ? false : m[2]!;
  }
  if (Object.keys(options).length === 0) throw new Error(`no default_room_options in:\n${yaml}`);
  return options;
}

const alive = (node: string) => execFileSync('ps', ['-eo', 'args']).toString().includes(`-sname ${node}`);

describe('the harness watchdog', () => {
  it('stops the ejabberd of a test process killed with SIGKILL, and removes its temp dir', async () => {
    const code = [
      `import { startEjabberd } from ${JSON.stringify(join(root, 'dev-tools', 'ejabberd.ts'))};`,
      'const e = await startEjabberd();',
      'console.log(JSON.stringify({ node: e.node, dir: e.dir }));',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = await startNodeProcess(['--input-type=module', '-e', code], { what: 'a test process with an ejabberd', cwd: root, ready: (out) => out.includes('"node"'), timeoutMs: 45_000 });
    const { node, dir } = JSON.parse(/\{.*\}/.exec(child.output())![0]) as { node: string; dir: string };
    expect(alive(node)).toBe(true);
    child.child.kill('SIGKILL');
    await child.exited;
    await withTimeout(
      (async () => {
        while (alive(node) || existsSync(dir)) await new Promise((r) => setTimeout(r, 100));
      })(),
      15_000,
      `the watchdog to stop ${node} and remove ${dir}`,
    );
  }, 60_000);
});

describe('docs/deploying.md, ejabberd, word for word', () => {
  let ejabberd: Ejabberd;
  let scratch: string;
  let bot: Bot;
  const ALICE_PW = 'alice-pw-from-the-test';

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'incident-bot-manual-'));
    await runManual(await manualBlock('ejabberd-tls'), scratch);
    ejabberd = await startEjabberd({
      hosts: ['example.org'],
      tls: { certfiles: [join(scratch, 'example.org.pem')] },
      roomDefaults: roomDefaultsOf(await manualBlock('ejabberd-room-defaults')),
    });
    // The manual's admin already has an account on the server.
    await ejabberd.register('alice', 'example.org', ALICE_PW);
  }, 60_000);

  afterAll(async () => {
    await bot?.stop();
    await ejabberd?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('sets up the account and a members-only, non-anonymous, hidden room with ejabberdctl', async () => {
    const setup = await manualBlock('ejabberd-setup');
    expect(setup).toMatch(/^ejabberdctl /m);
    await runManual(setup, scratch, { ...process.env, PATH: `${ejabberd.binDir}:${process.env.PATH ?? ''}` });
    expect(await ejabberd.command('registered_users', { host: 'example.org' })).toEqual(expect.arrayContaining(['incidents', 'alice']));
    const options = await ejabberd.command('get_room_options', { name: 'operators', service: 'conference.example.org' });
    expect(options).toMatchObject({ persistent: 'true', anonymous: 'false', members_only: 'true', public: 'false', public_list: 'false' });
  });

  it('the bot, configured as the manual says, logs in over STARTTLS trusting ca.pem, is in the room and sees the admin', async () => {
    const setup = await manualBlock('ejabberd-setup');
    const password = /^ejabberdctl register incidents example\.org '([^']+)'$/m.exec(setup)![1]!;
    const json = botConfigJson({
      service: ejabberd.tlsService!,
      domain: 'example.org',
      username: 'incidents',
      password,
      storagePath: join(scratch, 'store', 'incidents.json'),
      defaultRoom: 'operators@conference.example.org',
      admins: ['alice@example.org'],
    });
    (json.xmpp as Record<string, unknown>).tls = { caFile: join(scratch, 'ca.pem') };
    const events: Array<{ msg: string; [k: string]: unknown }> = [];
    bot = await startBot(parseConfig(json), { log: pino({ level: 'info' }, { write: (l: string) => void events.push(JSON.parse(l)) }), roomIntervalMs: 20 });
    expect(bot.xmpp.isSecure()).toBe(true);
    const tls = (bot.xmpp.socket as unknown as { socket: TLSSocket }).socket;
    expect(tls.authorized).toBe(true);
    expect(tls.getPeerCertificate().subjectaltname).toBe('DNS:example.org, DNS:conference.example.org');
    expect(events.find((e) => e.msg === 'bot started')).toMatchObject({ roomJoined: true });
    expect(bot.defaultRoom()).toMatchObject({ joined: true, failures: 0 });

    // The owner comes in; the room shows the bot her real JID, so she is an admin to it: !help lists admin commands.
    const alice = await ejabberd.client({ username: 'alice', host: 'example.org', password: ALICE_PW, resource: 'laptop' });
    const room = await observeRoom(alice, 'operators@conference.example.org', 'alice');
    await room.waitForOccupant('incident-bot');
    await until(() => bot.rooms.occupant('operators@conference.example.org', 'alice')?.jid === 'alice@example.org/laptop', 5_000, 'the bot to see alice');
    await room.say('!help');
    expect(await room.waitFor((b) => b.startsWith('Commands you can run here'))).toContain('!ack');

    // A room created on demand (by anyone, the bot too) takes the manual's default_room_options.
    await observeRoom(alice, 'scratch@conference.example.org', 'alice');
    const created = await ejabberd.command('get_room_options', { name: 'scratch', service: 'conference.example.org' });
    expect(created).toMatchObject({ anonymous: 'false', public: 'false', public_list: 'false' });
  });

  it('is right that after a new certificate reload_config is not enough: a restart is', async () => {
    const port = new URL(ejabberd.tlsService!).port;
    const served = () =>
      execFileSync('sh', ['-c', `openssl s_client -starttls xmpp -xmpphost example.org -connect 127.0.0.1:${port} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`]).toString().trim();
    const fingerprint = (file: string) => execFileSync('openssl', ['x509', '-in', file, '-noout', '-fingerprint', '-sha256']).toString().trim();
    const before = fingerprint(join(scratch, 'example.org.crt'));
    expect(served()).toBe(before);
    // A renewal as public CAs issue them, valid for less time than the certificate it replaces (90 days), from the
    // same CA, in a new file that replaces the old one in certfiles.
    const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=example.org', '-keyout', 'renewed.key', '-out', 'renewed.csr']);
    openssl(['x509', '-req', '-in', 'renewed.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '90', '-extfile', 'example.org.ext', '-out', 'renewed.crt']);
    await writeFile(join(scratch, 'renewed.pem'), (await readFile(join(scratch, 'renewed.crt'), 'utf8')) + (await readFile(join(scratch, 'renewed.key'), 'utf8')));
    const after = fingerprint(join(scratch, 'renewed.crt'));
    const yml = join(ejabberd.dir, 'ejabberd.yml');
    await writeFile(yml, (await readFile(yml, 'utf8')).replace(join(scratch, 'example.org.pem'), join(scratch, 'renewed.pem')));
    await ejabberd.ctl(['reload_config']);
    expect(served()).toBe(before); // still the old one (it expires later)
    await ejabberd.restart();
    expect(served()).toBe(after);
  }, 30_000);
});
