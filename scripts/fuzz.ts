/**
 * `npm run fuzz -- [--count N] [--seed S] [--heap-snapshots N,M]`: feeds N mutated XEP-0268 stanzas (default
 * 100,000) through the bot's real stanza path and prints the figures. Exits non-zero when anything threw, an IQ did
 * not get exactly one reply, or memory grew. A shorter run is part of `npm test` (test/robustness/fuzz.test.ts).
 * `--heap-snapshots 20000,40000` writes V8 heap snapshots at those stanza counts, to diff when memory grows.
 */
import { Command } from 'commander';
import { fuzz, fuzzFailures } from '../dev-tools/fuzz.js';

const opts = new Command()
  .option('--count <n>', 'stanzas to send', Number, 100_000)
  .option('--seed <n>', 'random seed (replays a run)', Number, 1)
  .option('--heap-snapshots <list>', 'write heap snapshots at these stanza counts (comma-separated)', (v: string) => v.split(',').map(Number), [])
  .option('--heap-snapshot-dir <dir>', 'where heap snapshots go (default: the OS temp dir)')
  .parse()
  .opts<{ count: number; seed: number; heapSnapshots: number[]; heapSnapshotDir?: string }>();

const report = await fuzz(opts.count, opts.seed, {
  heapSnapshotsAt: opts.heapSnapshots,
  ...(opts.heapSnapshotDir ? { heapSnapshotDir: opts.heapSnapshotDir } : {}),
});
const errors = Object.entries(report.errors).map(([k, v]) => `${k} ${v}`).join(', ');
process.stdout.write(
  [
    `stanzas fuzzed:        ${report.stanzas} (seed ${opts.seed}) in ${report.seconds.toFixed(1)} s`,
    `  not well-formed XML: ${report.unparseable} (a server closes such a stream; nothing reaches the bot)`,
    `  IQs:                 ${report.iqs} — answered once ${report.iqsAnswered - report.iqsAnsweredTwice}, twice or more ${report.iqsAnsweredTwice}, never ${report.iqsUnanswered}; stray replies ${report.strayReplies}`,
    `    results ${report.results}; errors: ${errors}`,
    `  messages:            ${report.messages}`,
    `crashes:               ${report.crashes}${report.crashSamples.length ? ` (${report.crashSamples.join(' | ')})` : ''}`,
    `RSS:                   ${report.rssBeforeMb.toFixed(0)} MB after warm-up → ${report.rssAfterMb.toFixed(0)} MB at the end`,
    `V8 heap after GC:      ${report.heapBeforeMb.toFixed(0)} MB after warm-up → ${report.heapAfterMb.toFixed(0)} MB at the end`,
    `stored:                ${report.storedIncidents} incidents, store file ${report.storeMb.toFixed(1)} MB`,
    ...report.heapSnapshots.map((file) => `heap snapshot:         ${file}`),
    '',
  ].join('\n'),
);
const problems = fuzzFailures(report);
if (problems.length) {
  process.stderr.write(`FAILED: ${problems.join('; ')}\n`);
  process.exit(1);
}
process.stdout.write('OK\n');
process.exit(0);
