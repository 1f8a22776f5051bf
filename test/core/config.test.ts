import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig, maskedConfig, parseConfig, type Config } from '../../src/core/config.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The smallest config the schema accepts: everything optional left out. */
function minimal(): Record<string, unknown> {
  return {
    xmpp: { service: 'xmpp://127.0.0.1:5222', domain: 'example.org', username: 'incidents', password: 'secret' },
    rooms: { default: 'operators@conference.example.org' },
    storage: { path: 'data/incidents.json' },
  };
}

type Raw = Record<string, any>;

/** A minimal config changed by `edit` (which may mutate it). */
function withEdit(edit: (raw: Raw) => void): Raw {
  const raw = minimal() as Raw;
  edit(raw);
  return raw;
}

/** The ConfigError `fn` throws; fails the test when it throws nothing or something else. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

function problemsOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  return configErrorOf(() => parseConfig(raw, 'test.json', env)).problems;
}

/** The problem list holds a line starting with `keyPath: `. */
function expectProblemAt(problems: string[], keyPath: string): void {
  expect(problems.some((p) => p.startsWith(`${keyPath}: `)), `no problem at ${keyPath} in ${JSON.stringify(problems)}`).toBe(true);
}

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'incident-bot-config-'));
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(raw: unknown, name = 'bot.config.json', sub = ''): string {
  const folder = path.join(dir, sub);
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, name);
  writeFileSync(file, typeof raw === 'string' ? raw : JSON.stringify(raw));
  return file;
}

describe('the example bot.config.json', () => {
  it('validates and keeps its documented values', () => {
    const file = path.join(repoRoot, 'bot.config.json');
    const config = loadConfig(file, { env: {} });
    expect(config.xmpp).toEqual({
      service: 'xmpp://127.0.0.1:5222',
      domain: 'example.org',
      username: 'incidents',
      password: 'change-me',
      resource: 'bot',
      allowPlaintext: false,
    });
    expect(config.rooms.default).toBe('operators@conference.example.org');
    expect(config.rooms.allow).toContain('*@conference.example.org');
    expect(config.admins).toEqual(['alice@example.org']);
    expect(config.peers).toEqual([
      { jid: 'incidents@peer.example/bot', trust: 'trusted', format: 'iodef' },
      { jid: 'legacy.example', trust: 'trusted', format: 'legacy' },
    ]);
    expect(config.untrusted).toBe('flag');
    expect(config.storage.path).toBe(path.join(repoRoot, 'data', 'incidents.json'));
  });
});

describe('defaults', () => {
  it('fills nick, resource, untrusted and the optional lists', () => {
    const config = parseConfig(minimal());
    expect(config.nick).toBe('incident-bot');
    expect(config.xmpp.resource).toBe('bot');
    expect(config.untrusted).toBe('flag');
    expect(config.rooms.allow).toEqual([]);
    expect(config.admins).toEqual([]);
    expect(config.peers).toEqual([]);
  });

  it('fills the outbox section', () => {
    expect(parseConfig(minimal()).outbox).toEqual({
      retryMinSeconds: 5,
      retryMaxSeconds: 600,
      giveUpAfterMinutes: 2880,
      replyTimeoutSeconds: 30,
    });
    expect(parseConfig(withEdit((r) => (r.outbox = { retryMinSeconds: 1 }))).outbox.retryMinSeconds).toBe(1);
  });

  it('fills the limits section, per sender, per domain and the stanza size', () => {
    expect(parseConfig(minimal()).limits).toEqual({
      reportsPerMinute: 3000,
      burst: 500,
      reportsPerMinutePerDomain: 6000,
      burstPerDomain: 1000,
      maxStanzaBytes: 65536,
      maxIncidentBytes: 65536,
      maxAddresses: 1000,
      maxTextLength: 8192,
    });
    expect(parseConfig(withEdit((r) => (r.limits = { maxStanzaBytes: 262144 }))).limits.maxStanzaBytes).toBe(262144);
  });

  it('gives a peer trust "trusted" unless it says otherwise, and leaves format unset (= the format it reports in)', () => {
    const config = parseConfig(
      withEdit((r) => {
        r.peers = [{ jid: 'peer.example' }, { jid: 'other.example', trust: 'untrusted', format: 'legacy' }];
      }),
    );
    expect(config.peers).toEqual([
      { jid: 'peer.example', trust: 'trusted' },
      { jid: 'other.example', trust: 'untrusted', format: 'legacy' },
    ]);
  });

  it('keeps explicitly set values instead of the defaults', () => {
    const config = parseConfig(
      withEdit((r) => {
        r.nick = 'triage';
        r.untrusted = 'reject';
        r.xmpp.resource = 'laptop';
      }),
    );
    expect(config.nick).toBe('triage');
    expect(config.untrusted).toBe('reject');
    expect(config.xmpp.resource).toBe('laptop');
  });
});

describe('the password', () => {
  it('comes from INCIDENT_BOT_PASSWORD when the file has none', () => {
    const raw = withEdit((r) => delete r.xmpp.password);
    expect(parseConfig(raw, 'x.json', { INCIDENT_BOT_PASSWORD: 'from-env' }).xmpp.password).toBe('from-env');
  });

  it('INCIDENT_BOT_PASSWORD overrides the one in the file', () => {
    expect(parseConfig(minimal(), 'x.json', { INCIDENT_BOT_PASSWORD: 'from-env' }).xmpp.password).toBe('from-env');
  });

  it('the file password is used when the variable is unset or empty', () => {
    expect(parseConfig(minimal(), 'x.json', {}).xmpp.password).toBe('secret');
    expect(parseConfig(minimal(), 'x.json', { INCIDENT_BOT_PASSWORD: '' }).xmpp.password).toBe('secret');
  });

  it('loadConfig reads process.env when no env is passed', () => {
    vi.stubEnv('INCIDENT_BOT_PASSWORD', 'from-process-env');
    const file = writeConfig(withEdit((r) => delete r.xmpp.password));
    expect(loadConfig(file).xmpp.password).toBe('from-process-env');
  });

  it('missing everywhere is an error naming xmpp.password', () => {
    const problems = problemsOf(withEdit((r) => delete r.xmpp.password), {});
    expectProblemAt(problems, 'xmpp.password');
  });
});

describe('errors name the key path', () => {
  const cases: Array<[string, (r: Raw) => void]> = [
    ['rooms.default', (r) => (r.rooms.default = 'not-a-room')],
    ['rooms.default', (r) => (r.rooms.default = 'operators@conference.example.org/nick')],
    ['rooms.default', (r) => delete r.rooms.default],
    ['rooms.allow.1', (r) => (r.rooms.allow = ['*@conference.example.org', '*@'])],
    ['peers.0.trust', (r) => (r.peers = [{ jid: 'peer.example', trust: 'maybe' }])],
    ['peers.1.format', (r) => (r.peers = [{ jid: 'peer.example' }, { jid: 'other.example', format: 'xml' }])],
    ['peers.0.jid', (r) => (r.peers = [{ jid: 'bob@' }])],
    ['peers.0', (r) => (r.peers = [{ jid: 'peer.example', colour: 'red' }])],
    ['admins.0', (r) => (r.admins = ['alice@'])],
    ['xmpp.service', (r) => (r.xmpp.service = 'http://example.org')],
    ['xmpp.service', (r) => (r.xmpp.service = 'example.org:5222')],
    ['xmpp.domain', (r) => (r.xmpp.domain = '')],
    ['xmpp.username', (r) => (r.xmpp.username = 'incidents@example.org')],
    ['xmpp.password', (r) => (r.xmpp.password = 42)],
    ['nick', (r) => (r.nick = '')],
    ['untrusted', (r) => (r.untrusted = 'drop')],
    ['storage', (r) => delete r.storage],
    ['storage.path', (r) => (r.storage = {})],
    ['storage.path', (r) => (r.storage = { path: '' })],
    ['outbox.retryMinSeconds', (r) => (r.outbox = { retryMinSeconds: 0 })],
    ['outbox.giveUpAfterMinutes', (r) => (r.outbox = { giveUpAfterMinutes: '2 days' })],
    ['limits.maxStanzaBytes', (r) => (r.limits = { maxStanzaBytes: 1024 })],
    ['limits.reportsPerMinutePerDomain', (r) => (r.limits = { reportsPerMinutePerDomain: 0 })],
  ];

  it.each(cases)('%s', (keyPath, edit) => {
    expectProblemAt(problemsOf(withEdit(edit)), keyPath);
  });

  it('an unknown top-level key is named', () => {
    const problems = problemsOf(withEdit((r) => (r.colour = 'blue')));
    expect(problems.some((p) => p.includes('colour')), JSON.stringify(problems)).toBe(true);
  });

  it('an unknown key inside a section is named with its section', () => {
    const problems = problemsOf(withEdit((r) => (r.xmpp.host = 'example.org')));
    expect(problems.some((p) => p.startsWith('xmpp: ') && p.includes('host')), JSON.stringify(problems)).toBe(true);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(
      withEdit((r) => {
        r.untrusted = 'drop';
        r.xmpp.service = 'ftp://x';
      }),
    );
    expectProblemAt(problems, 'untrusted');
    expectProblemAt(problems, 'xmpp.service');
  });

  it('a non-object is a ConfigError, not a crash', () => {
    expect(() => parseConfig([], 'x.json')).toThrow(ConfigError);
    expect(() => parseConfig(null, 'x.json')).toThrow(ConfigError);
  });

  it('the error message names the file and lists the problems', () => {
    const err = configErrorOf(() => parseConfig(withEdit((r) => (r.untrusted = 'drop')), '/etc/bot.json'));
    expect(err.file).toBe('/etc/bot.json');
    expect(err.message).toContain('/etc/bot.json');
    expect(err.message).toContain('untrusted: ');
  });
});

describe('loadConfig file errors', () => {
  it('bad JSON is a ConfigError naming the file', () => {
    const file = writeConfig('{ "xmpp": { ');
    const err = configErrorOf(() => loadConfig(file, { env: {} }));
    expect(err.file).toBe(file);
    expect(err.message).toContain(file);
    expect(err.problems.join('\n')).toMatch(/not valid JSON/);
  });

  it('a missing file is a ConfigError naming the file', () => {
    const file = path.join(dir, 'nope.json');
    const err = configErrorOf(() => loadConfig(file, { env: {} }));
    expect(err.file).toBe(file);
    expect(err.problems.join('\n')).toMatch(/cannot read/);
  });

  it('a directory instead of a file is a ConfigError', () => {
    const err = configErrorOf(() => loadConfig(dir, { env: {} }));
    expect(err.problems.join('\n')).toMatch(/cannot read/);
  });

  it('a schema error from a file names the file and the key', () => {
    const file = writeConfig(withEdit((r) => (r.peers = [{ jid: 'peer.example', trust: 'yes' }])));
    const err = configErrorOf(() => loadConfig(file, { env: {} }));
    expect(err.file).toBe(file);
    expectProblemAt(err.problems, 'peers.0.trust');
  });
});

describe('storage.path', () => {
  it('a relative path is resolved against the config file folder, not the cwd', () => {
    const file = writeConfig(minimal(), 'bot.config.json', 'etc');
    expect(loadConfig(file, { env: {} }).storage.path).toBe(path.join(dir, 'etc', 'data', 'incidents.json'));
  });

  it('.. in the path climbs from the config folder', () => {
    const file = writeConfig(withEdit((r) => (r.storage.path = '../var/store.json')), 'bot.config.json', 'etc');
    expect(loadConfig(file, { env: {} }).storage.path).toBe(path.join(dir, 'var', 'store.json'));
  });

  it('the config file may itself be given relative to the cwd', () => {
    const file = writeConfig(minimal(), 'bot.config.json', 'rel');
    const relative = path.relative(process.cwd(), file);
    expect(path.isAbsolute(relative)).toBe(false);
    expect(loadConfig(relative, { env: {} }).storage.path).toBe(path.join(dir, 'rel', 'data', 'incidents.json'));
  });

  it('an absolute path is kept as is', () => {
    const absolute = path.join(dir, 'elsewhere', 'store.json');
    const file = writeConfig(withEdit((r) => (r.storage.path = absolute)), 'bot.config.json', 'etc');
    expect(loadConfig(file, { env: {} }).storage.path).toBe(absolute);
  });

  it('parseConfig alone leaves the path untouched', () => {
    expect(parseConfig(minimal()).storage.path).toBe('data/incidents.json');
  });
});

describe('maskedConfig', () => {
  it('hides the password and keeps everything else', () => {
    const config: Config = parseConfig(minimal(), 'x.json', { INCIDENT_BOT_PASSWORD: 's3cr3t-Pa55' });
    const masked = maskedConfig(config) as Config;
    expect(JSON.stringify(masked)).not.toContain('s3cr3t-Pa55');
    expect(masked.xmpp.password).toBe('********');
    expect(masked.xmpp.username).toBe('incidents');
    expect(masked.rooms).toEqual(config.rooms);
    expect(masked.storage).toEqual(config.storage);
  });

  it('does not change the config it masks', () => {
    const config = parseConfig(minimal());
    maskedConfig(config);
    expect(config.xmpp.password).toBe('secret');
  });
});
