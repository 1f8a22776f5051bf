/** `xmpp.tls.caFile`: resolved like storage.path, checked when the config is loaded, refused where it cannot apply. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, maskedConfig, parseConfig } from '../../src/core/config.js';

/** A real (expired, harmless) self-signed CA certificate: only its parsing matters here. */
const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBhzCCAS2gAwIBAgIUFqepL3RuFEAI/Ri+sndUFbiRVnQwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOY29uZmlnIHRlc3QgQ0EwHhcNMjYxMTI3MDgwNTE3WhcNMjYx
MTI4MDgwNTE3WjAZMRcwFQYDVQQDDA5jb25maWcgdGVzdCBDQTBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABB2Tpkdv+cuNK4XlmhsyclcgAbT3i5HhRDQy/qiTwDjz
UvSq6xDoDIIcanEN5CaH+qUy3tYGwW5q3yATw5KoMi2jUzBRMB0GA1UdDgQWBBT7
g3e3hpNaJCruZuqxxwSjQenJ9zAfBgNVHSMEGDAWgBT7g3e3hpNaJCruZuqxxwSj
QenJ9zAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIEe1K2/CkykJ
jCbfRFIjUYTm303gv3AKd+mIGNN7CUuZAiEAs7IvpTUSUJ32iSRPWQ1Cf8lkknv3
pw+obcLn0hjpa/A=
-----END CERTIFICATE-----
`;

type Raw = Record<string, any>;

function withCaFile(caFile: unknown, service = 'xmpp://xmpp.example.org:5222'): Raw {
  return {
    xmpp: { service, domain: 'example.org', username: 'incidents', password: 'secret', tls: { caFile } },
    rooms: { default: 'operators@conference.example.org' },
    storage: { path: 'data/incidents.json' },
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'incident-bot-config-tls-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `files` (name → text) and the config into `dir/etc`, and loads it. */
function load(raw: Raw, files: Record<string, string> = {}) {
  const etc = path.join(dir, 'etc');
  mkdirSync(etc, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(etc, name), text);
  const file = path.join(etc, 'bot.config.json');
  writeFileSync(file, JSON.stringify(raw));
  return loadConfig(file, { env: {} });
}

/** The problems of the ConfigError `fn` throws (fails the test when it throws nothing). */
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('xmpp.tls.caFile', () => {
  it('is optional: without it there is no tls section', () => {
    const raw = withCaFile(undefined);
    delete raw.xmpp.tls;
    expect(parseConfig(raw).xmpp.tls).toBeUndefined();
  });

  it('a relative path is resolved against the config file folder, and a PEM certificate is accepted', () => {
    const config = load(withCaFile('ca.pem'), { 'ca.pem': CA_PEM });
    expect(config.xmpp.tls?.caFile).toBe(path.join(dir, 'etc', 'ca.pem'));
  });

  it('accepts a bundle of several certificates', () => {
    expect(load(withCaFile('bundle.pem'), { 'bundle.pem': `${CA_PEM}${CA_PEM}` }).xmpp.tls?.caFile).toMatch(/bundle\.pem$/);
  });

  it('an absolute path is kept', () => {
    const absolute = path.join(dir, 'ca.pem');
    writeFileSync(absolute, CA_PEM);
    expect(load(withCaFile(absolute)).xmpp.tls?.caFile).toBe(absolute);
  });

  it('a missing file is an error naming the key and the resolved path', () => {
    const found = problems(() => load(withCaFile('nope.pem')));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^xmpp\.tls\.caFile: cannot read .*etc\/nope\.pem/);
  });

  it('a file without a PEM certificate is an error (a private key, say)', () => {
    const found = problems(() => load(withCaFile('key.pem'), { 'key.pem': '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n' }));
    expect(found[0]).toMatch(/^xmpp\.tls\.caFile: .*key\.pem holds no PEM certificate/);
  });

  it('a broken certificate is an error saying which one', () => {
    const broken = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
    const found = problems(() => load(withCaFile('mixed.pem'), { 'mixed.pem': `${CA_PEM}${broken}` }));
    expect(found[0]).toMatch(/^xmpp\.tls\.caFile: certificate 2 in .*mixed\.pem cannot be parsed/);
  });

  it('an empty path, a non-string or an unknown key in xmpp.tls is a schema error naming it', () => {
    expect(problems(() => parseConfig(withCaFile(''))).some((p) => p.startsWith('xmpp.tls.caFile: '))).toBe(true);
    expect(problems(() => parseConfig(withCaFile(42))).some((p) => p.startsWith('xmpp.tls.caFile: '))).toBe(true);
    const raw = withCaFile('ca.pem');
    raw.xmpp.tls.insecure = true;
    expect(problems(() => parseConfig(raw)).some((p) => p.startsWith('xmpp.tls: ') && p.includes('insecure'))).toBe(true);
  });

  it('is refused with a wss:// service, where it could not apply', () => {
    const found = problems(() => parseConfig(withCaFile('ca.pem', 'wss://xmpp.example.org/ws')));
    expect(found).toEqual([expect.stringMatching(/^xmpp\.tls\.caFile: applies to xmpp:\/\/ and xmpps:\/\/ services only/)]);
  });

  it('parseConfig alone leaves the path as written; maskedConfig shows it', () => {
    const config = parseConfig(withCaFile('ca.pem'));
    expect(config.xmpp.tls).toEqual({ caFile: 'ca.pem' });
    expect((maskedConfig(config) as typeof config).xmpp.tls).toEqual({ caFile: 'ca.pem' });
  });
});
