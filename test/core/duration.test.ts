import { describe, expect, it } from 'vitest';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../src/triage/duration.js';

describe('durations as admins type them', () => {
  it('reads 30m, 2h, 1d, 90s and 1h30m', () => {
    expect(parseDuration('30m')).toBe(30 * 60_000);
    expect(parseDuration('2h')).toBe(2 * 3_600_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1H30m')).toBe(90 * 60_000);
  });

  it('refuses what is not one, zero, and more than 30 days', () => {
    for (const bad of ['', '30', 'm', 'soon', '1h 30m', '-5m', '0m', '31d', '1.5h']) expect(parseDuration(bad)).toBeUndefined();
    expect(parseDuration('30d')).toBe(MAX_DURATION_MS);
  });

  it('shows them back to the minute', () => {
    expect(formatDuration(90 * 60_000)).toBe('1h 30m');
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(0)).toBe('0m');
  });
});
