/** The bot's logger: pino, one JSON line per event, with the password redacted wherever it might appear. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { name: 'incident-bot' },
    redact: { paths: ['password', '*.password', '*.*.password', 'config.xmpp.password'], censor: '********' },
  });
}

/** A logger that prints nothing (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
