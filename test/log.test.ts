/** The logger: JSON off a terminal, one pretty line per event on one, the password redacted in both. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, type LogFormat } from '../src/log.js';

const SECRET = 'pw-Never-Logged-42';

/** A stdout stand-in that records what is written, a terminal or not. */
function sink(isTTY: boolean) {
  const lines: string[] = [];
  const out = { isTTY, write: (s: string) => lines.push(s) > 0 } as unknown as NodeJS.WritableStream & { isTTY: boolean };
  return { out, lines };
}

/** Logs the password every way the bot might hold it. */
function logSecrets(log: ReturnType<typeof createLogger>): void {
  log.info({ password: SECRET }, 'top level');
  log.info({ xmpp: { password: SECRET } }, 'one level down');
  log.info({ config: { xmpp: { username: 'incidents', password: SECRET } } }, 'the whole config');
  log.warn({ err: { message: 'boom', password: SECRET } }, 'an error carrying it');
}

afterEach(() => vi.unstubAllEnvs());

describe('createLogger', () => {
  it('writes one JSON object per line when stdout is not a terminal', () => {
    vi.stubEnv('LOG_FORMAT', '');
    const { out, lines } = sink(false);
    createLogger({ out }).info({ incident: 7 }, 'stored');
    expect(lines).toHaveLength(1);
    const event = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(event).toMatchObject({ level: 30, name: 'incident-bot', incident: 7, msg: 'stored' });
  });

  it('writes one human-readable line per event on a terminal', () => {
    vi.stubEnv('LOG_FORMAT', '');
    vi.stubEnv('NO_COLOR', '1');
    const { out, lines } = sink(true);
    const log = createLogger({ out });
    log.info({ incident: 7 }, 'stored');
    log.warn({ err: new Error('connection lost') }, 'xmpp error');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: stored \{"incident":7\}\n$/);
    // An error with its stack stays on its one line.
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: xmpp error \{"err":\{.*"message":"connection lost".*\}\}\n$/);
    expect(lines.join('').split('\n')).toHaveLength(3);
  });

  it('LOG_FORMAT overrides the choice either way', () => {
    vi.stubEnv('LOG_FORMAT', 'json');
    const tty = sink(true);
    createLogger({ out: tty.out }).info('x');
    expect(() => JSON.parse(tty.lines[0]!)).not.toThrow();
    vi.stubEnv('LOG_FORMAT', 'pretty');
    const pipe = sink(false);
    createLogger({ out: pipe.out }).info('x');
    expect(pipe.lines[0]).toMatch(/INFO.*: .*x/);
  });

  it('respects the level, given or from LOG_LEVEL', () => {
    const given = sink(false);
    createLogger({ out: given.out, level: 'warn', format: 'json' }).info('hidden');
    expect(given.lines).toHaveLength(0);
    vi.stubEnv('LOG_LEVEL', 'debug');
    const fromEnv = sink(false);
    createLogger({ out: fromEnv.out, format: 'json' }).debug('shown');
    expect(fromEnv.lines).toHaveLength(1);
  });

  it.each<LogFormat>(['json', 'pretty'])('never writes the password (%s)', (format) => {
    const { out, lines } = sink(format === 'pretty');
    logSecrets(createLogger({ out, format, level: 'debug' }));
    expect(lines).toHaveLength(4);
    const text = lines.join('');
    expect(text).not.toContain(SECRET);
    expect(text.match(/\*{8}/g)).toHaveLength(4);
  });
});
