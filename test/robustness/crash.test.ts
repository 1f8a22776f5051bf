/**
 * Crash safety: the real bot is `kill -9`ed in the middle of a burst of IODEF reports and restarted; every report
 * that got an IQ result must be in the store, and the store must read back whole. The full 1,000-report run is
 * `npx tsx scripts/crash-test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { crashRun } from '../../dev-tools/crash.js';

describe('kill -9 during a burst of reports', () => {
  it('loses no acknowledged report and leaves a store that reads back whole', async () => {
    const r = await crashRun({ reports: 200, killAfterAcks: 100 });
    expect(r.ackedButMissing).toEqual([]);
    expect(r.fileValid).toBe(true);
    expect(r.acked).toBeGreaterThanOrEqual(100);
    expect(r.storedAfterRestart).toBeGreaterThanOrEqual(r.acked);
  }, 60_000);
});
