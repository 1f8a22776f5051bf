import { afterEach, describe, expect, it, vi } from 'vitest';
import { SenderRateLimiter } from '../../src/core/limits.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('SenderRateLimiter', () => {
  it('refuses past the burst and refills at the per-minute rate', () => {
    let now = 0;
    const limiter = new SenderRateLimiter({ perMinute: 60, burst: 3 }, () => now);
    expect([1, 2, 3, 4].map(() => limiter.take('a@x'))).toEqual([true, true, true, false]);
    expect(limiter.take('b@x')).toBe(true);
    now += 1000;
    expect(limiter.take('a@x')).toBe(true);
    expect(limiter.take('a@x')).toBe(false);
  });

  it('by default runs on the monotonic clock: the wall clock stepping back an hour changes nothing', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const limiter = new SenderRateLimiter({ perMinute: 60, burst: 3 });
    expect(limiter.take('a@x')).toBe(true);
    vi.setSystemTime(Date.now() - 3_600_000);
    expect(limiter.take('a@x')).toBe(true);
    vi.setSystemTime(Date.now() + 7_200_000);
    expect(limiter.take('a@x')).toBe(true);
    // Stepping forward did not refill the bucket either.
    expect(limiter.take('a@x')).toBe(false);
  });
});
