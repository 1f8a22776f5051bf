/**
 * Command-line entry point: `npm start -- --config FILE` (or `incident-bot --config FILE`).
 * Exit codes: 0 clean stop (also after SIGTERM on a full disk: what could not be written was never acknowledged,
 * and the store's lock is released), 1 cannot connect or log in, cannot open the store, or a store command
 * (--backup, --check-store, --repair-store) failed, 2 invalid configuration.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { startBot } from './bot.js';
import { ConfigError, configWarnings, loadConfig, maskedConfig } from './core/config.js';
import { peerLine } from './core/peer-summary.js';
import { createLogger, type Logger } from './log.js';
import { backupStore, checkStore, repairStore } from './core/store-admin.js';
import { StoreOpenError } from './core/store.js';
import { StartupError } from './xmpp/connection.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('incident-bot')
  .description('Shares and triages XEP-0268 incident reports between XMPP server operators.')
  .version(pkg.version, '-v, --version')
  .option('-c, --config <file>', 'configuration file', 'bot.config.json')
  .option('--check-config', 'validate the configuration, print it with the password masked, and exit')
  .option('--backup <file>', 'write a consistent copy of the incident store to FILE (works while the bot runs) and exit')
  .option('--check-store', 'read every record of the incident store, report damage, and exit (works while the bot runs)')
  .option('--repair-store', 'rebuild the incident store from its readable records, setting damaged ones aside (stop the bot first)')
  .parse();

const opts = program.opts<{ config: string; checkConfig?: boolean; backup?: string; checkStore?: boolean; repairStore?: boolean }>();

/**
 * A promise rejection nobody handled is a bug of ours or of a library (a server answering faster than expected
 * was one), not a reason to stop serving: log it at error level and keep running, instead of Node's default exit
 * (which systemd's Restart=on-failure would turn into a restart loop). Uncaught exceptions stay fatal: the state
 * after a throw out of an event handler is unknown.
 */
let processLog: Logger | undefined;
process.on('unhandledRejection', (reason: unknown) => {
  const err = reason instanceof Error ? reason : new Error(String(reason));
  if (processLog) processLog.error({ err: err.message, stack: err.stack }, 'unhandled promise rejection (a bug, please report it): still running');
  else process.stderr.write(`incident-bot: unhandled promise rejection (still running): ${err.stack ?? err.message}\n`);
});

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(opts.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`incident-bot: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (opts.checkConfig) {
    process.stdout.write(`${JSON.stringify(maskedConfig(config), null, 2)}\n`);
    for (const warning of configWarnings(config)) process.stderr.write(`warning: ${warning}\n`);
    // For the reader, on stderr: stdout stays the config as JSON, for tools.
    process.stderr.write(`Peers:\n${config.peers.map((p) => `  ${peerLine(p, undefined)}`).join('\n') || '  none'}\n`);
    return 0;
  }
  if (opts.backup !== undefined || opts.checkStore || opts.repairStore) {
    try {
      const result = opts.backup !== undefined
        ? await backupStore(config.storage.path, opts.backup)
        : opts.checkStore
          ? await checkStore(config.storage.path)
          : await repairStore(config.storage.path);
      process.stdout.write(`${result.lines.join('\n')}\n`);
      return result.ok ? 0 : 1;
    } catch (err) {
      process.stderr.write(`incident-bot: ${(err as Error).message}\n`);
      return 1;
    }
  }
  const log = createLogger();
  processLog = log;
  for (const warning of configWarnings(config)) log.warn(warning);
  // Signals are watched from the start, so a stop request during start-up is honoured once the bot is up.
  // `on`, not `once`: a listener must stay installed or tsx's own handler exits at once with 128+signal.
  let stopRequested: ((signal: string) => void) | undefined;
  let pendingSignal: string | undefined;
  const onSignal = (signal: string) => {
    if (pendingSignal) {
      log.warn({ signal }, 'second signal: exiting without a clean shutdown');
      process.exit(1);
    }
    pendingSignal = signal;
    stopRequested?.(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let bot;
  try {
    bot = await startBot(config, { log, configFile: opts.config });
  } catch (err) {
    if (err instanceof StartupError || err instanceof StoreOpenError) {
      process.stderr.write(`incident-bot: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const running = bot;
  // SIGHUP: reload the configuration (what can change live is applied; the result is logged by the bot).
  process.on('SIGHUP', () => {
    running.reload().catch((err: Error) => log.error({ err: err.message }, 'configuration reload failed'));
  });
  await new Promise<void>((resolve) => {
    stopRequested = (signal) => {
      log.info({ signal }, 'shutting down');
      running.stop().then(resolve, resolve);
    };
    if (pendingSignal) stopRequested(pendingSignal);
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`incident-bot: unexpected error: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
