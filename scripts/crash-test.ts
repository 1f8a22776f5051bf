/**
 * `npx tsx scripts/crash-test.ts [--reports N] [--kill-after K] [--window W]`: a peer sends N IODEF reports
 * (default 1,000) to the real bot, which is `kill -9`ed once K (default 500) have been acknowledged; the bot is
 * restarted and every acknowledged report must be in its store, whose records must all read back. Prints the figures;
 * exits 1 when a report is lost or the file is invalid. A shorter run is part of `npm test`
 * (test/robustness/crash.test.ts).
 */
import { Command } from 'commander';
import { crashRun } from '../dev-tools/crash.js';

const opts = new Command()
  .option('--reports <n>', 'reports the peer sends', Number, 1000)
  .option('--kill-after <n>', 'kill -9 the bot once this many reports are acknowledged', Number, 500)
  .option('--window <n>', 'IQs outstanding at once', Number, 64)
  .parse()
  .opts<{ reports: number; killAfter: number; window: number }>();

const r = await crashRun({ reports: opts.reports, killAfterAcks: opts.killAfter, window: opts.window });
process.stdout.write(
  [
    `reports sent:                          ${r.sent} (of ${opts.reports}, window ${opts.window})`,
    `acknowledged before kill -9:           ${r.acked}`,
    `stored after restart:                  ${r.storedAfterRestart}`,
    `acknowledged but missing (must be 0):  ${r.ackedButMissing.length}${r.ackedButMissing.length ? ` (${r.ackedButMissing.slice(0, 10).join(', ')}${r.ackedButMissing.length > 10 ? ', …' : ''})` : ''}`,
    `store reads back whole:                ${r.fileValid ? 'yes' : 'NO'}`,
    `time:                                  ${r.seconds.toFixed(1)} s`,
    '',
  ].join('\n'),
);
const problems = [
  ...(r.ackedButMissing.length ? [`${r.ackedButMissing.length} acknowledged report(s) lost`] : []),
  ...(r.fileValid ? [] : ['the store does not read back whole']),
];
if (problems.length) {
  process.stderr.write(`FAILED: ${problems.join('; ')}\n`);
  process.exit(1);
}
process.stdout.write('OK\n');
process.exit(0);
