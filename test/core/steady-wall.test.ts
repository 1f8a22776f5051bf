import { afterEach, describe, expect, it, vi } from 'vitest';
import { steadyWallNow } from '../../src/core/clock.js';
import { isDue } from '../../src/xmpp/reminders.js';

afterEach(() => vi.restoreAllMocks());

describe('steadyWallNow', () => {
  it('does not step when the system clock is set an hour forward or back', () => {
    const before = steadyWallNow();
    expect(Math.abs(before - Date.now())).toBeLessThan(60_000);
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 3_600_000);
    expect(steadyWallNow() - before).toBeLessThan(1_000);
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() - 7_200_000);
    expect(steadyWallNow() - before).toBeGreaterThanOrEqual(0);
  });

  it('so a reminder due in 15 minutes is not made early by a clock set forward', () => {
    const receivedAt = new Date(steadyWallNow()).toISOString();
    const stored = { state: 'open', trusted: true, receivedAt, incident: { severity: 1 } } as never;
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 3_600_000);
    expect(isDue(stored, { severeMinutes: 15, otherMinutes: 60, times: 3 }, steadyWallNow())).toBe(false);
  });
});
