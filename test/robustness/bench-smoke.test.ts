/**
 * Smoke test for the benchmark harness (bench/run.ts): tiny sizes, one repetition, on a real Prosody.
 * Checks the shape of the report only — never timings.
 */
import { describe, expect, it } from 'vitest';
import { runBenchmarks } from '../../bench/run.js';

describe('bench harness (smoke)', () => {
  it('prints the five sections with positive figures', async () => {
    const result = await runBenchmarks({
      quick: true,
      sizes: { ingest: 40, latency: 20, store: [50, 200], commits: 3, codec: 200, reps: 1, scale: [50, 200], flood: 50, quietMs: 0 },
      progress: () => {},
    });
    expect(result.table).toMatch(/^\| figure \| bot \| baseline \| ratio \| target \| met\? \|/);
    for (const section of ['1. Ingest', '2. Latency', '3. Store', '4. Codec', '5. Scale']) expect(result.table).toContain(section);
    for (const s of ['Ingest', 'Latency', 'Store', 'Codec', 'Scale'] as const) {
      expect(result.rows.filter((r) => r.section === s).length).toBeGreaterThan(0);
    }
    for (const row of result.rows) {
      expect(row.bot, row.figure).toBeGreaterThan(0);
      expect(row.baseline, row.figure).toBeGreaterThan(0);
      expect(Number.isFinite(row.bot) && Number.isFinite(row.baseline)).toBe(true);
    }
  }, 120_000);
});
