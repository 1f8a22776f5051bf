/**
 * The bot's logger: pino, one line per event, with the password redacted wherever it might appear.
 *
 * - stdout not a terminal (systemd, a pipe, a file): one JSON object per line, for journald and log shippers.
 * - stdout a terminal: one human-readable line per event (pino-pretty), `HH:MM:ss LEVEL: message key=value…`.
 * - `LOG_FORMAT=json` or `LOG_FORMAT=pretty` overrides that choice; `LOG_LEVEL` sets the level (default info).
 *
 * Redaction is pino's and happens before either format sees the event, so it holds in both.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level?: string;
  /** Where lines go. Default process.stdout. */
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Default: LOG_FORMAT, else pretty when `out` is a terminal. */
  format?: LogFormat;
}

const REDACT = { paths: ['password', '*.password', '*.*.password', 'config.xmpp.password'], censor: '********' };

export function createLogger(opts: LoggerOptions | string = {}): Logger {
  const { level = process.env.LOG_LEVEL ?? 'info', out = process.stdout, format } = typeof opts === 'string' ? { level: opts } : opts;
  const options = { level, base: { name: 'incident-bot' }, redact: REDACT };
  const chosen = format ?? envFormat() ?? (out.isTTY ? 'pretty' : 'json');
  return pino(options, chosen === 'pretty' ? prettyLines(out) : (out as DestinationStream));
}

function envFormat(): LogFormat | undefined {
  const v = process.env.LOG_FORMAT?.toLowerCase();
  return v === 'json' || v === 'pretty' ? v : undefined;
}

/**
 * A destination that turns each JSON line pino writes into one pretty line, synchronously (pino-pretty's own stream
 * form is a transform pipeline, which may still hold the last lines when main() calls process.exit).
 */
function prettyLines(out: NodeJS.WritableStream): DestinationStream {
  const pretty = prettyFactory({
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,name',
    // Errors inline too (stack as an escaped string), rather than pino-pretty's multi-line error block.
    errorLikeObjectKeys: [],
    colorize: (out as { isTTY?: boolean }).isTTY === true && !process.env.NO_COLOR,
  });
  return { write: (line: string) => void out.write(pretty(line)) };
}

/** A logger that prints nothing (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
