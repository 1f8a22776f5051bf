/**
 * The short version of `npm run fuzz` (100,000 stanzas): mutated XEP example stanzas through the bot's real
 * stanza path. Nothing may throw, and every IQ get/set gets exactly one result or error.
 */
import { describe, expect, it } from 'vitest';
import { fuzz, fuzzFailures, MUTATION_NAMES } from '../../dev-tools/fuzz.js';

describe('fuzzing the stanza path', () => {
  it('survives 2,000 mutated stanzas with exactly one reply per IQ', async () => {
    const report = await fuzz(2_000, 7);
    expect(fuzzFailures(report, Number.POSITIVE_INFINITY)).toEqual([]);
    expect(report.crashes).toBe(0);
    expect(report.iqs).toBeGreaterThan(300);
    expect(report.iqsAnswered).toBe(report.iqs);
    // The mutations really do produce both accepted and refused stanzas.
    expect(report.results).toBeGreaterThan(0);
    expect(report.errors['bad-request'] ?? 0).toBeGreaterThan(0);
    expect(report.unparseable).toBeGreaterThan(0);
    expect(MUTATION_NAMES.length).toBeGreaterThanOrEqual(10);
  }, 120_000);
});
