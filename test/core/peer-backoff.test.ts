import { describe, expect, it } from 'vitest';
import { PeerBackoff } from '../../src/core/peer-backoff.js';

const policy = { retryMinMs: 1000, retryMaxMs: 8000, maxInFlight: 4 };

describe('PeerBackoff', () => {
  it('a peer never heard from gets one stanza at a time; once it answers, up to maxInFlight', () => {
    const b = new PeerBackoff(policy);
    expect(b.slots('p', 0)).toBe(1);
    const t = b.started('p');
    expect(b.slots('p', 0)).toBe(0);
    expect(b.answered(t)).toBe(false);
    expect(b.slots('p', 0)).toBe(4);
  });

  it('a failure stops everything to the peer until its backoff time, then allows one probe; the wait doubles up to the max', () => {
    const b = new PeerBackoff(policy);
    b.answered(b.started('p'));
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      const step = b.failed(b.started('p'), now);
      if (!step.step) throw new Error('expected a step');
      delays.push(step.delayMs);
      expect(b.slots('p', step.resumeAt - 1)).toBe(0);
      expect(b.resumeAt('p', now)).toBe(step.resumeAt);
      now = step.resumeAt;
      expect(b.slots('p', now)).toBe(1);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('stanzas in flight when the peer goes down count as one step, not one each', () => {
    const b = new PeerBackoff(policy);
    b.answered(b.started('p'));
    const tokens = [b.started('p'), b.started('p'), b.started('p'), b.started('p')];
    const steps = tokens.map((t) => b.failed(t, 100));
    expect(steps.filter((s) => s.step)).toHaveLength(1);
    expect(new Set(steps.map((s) => s.resumeAt))).toEqual(new Set([1100]));
    expect(b.slots('p', 1100)).toBe(1);
  });

  it('an answer (even a refusal) after a failure brings the peer back up at once', () => {
    const b = new PeerBackoff(policy);
    b.failed(b.started('p'), 0);
    expect(b.isDown('p')).toBe(true);
    expect(b.answered(b.started('p'))).toBe(true);
    expect(b.isDown('p')).toBe(false);
    expect(b.slots('p', 1)).toBe(4);
  });

  it('peers are independent', () => {
    const b = new PeerBackoff(policy);
    b.failed(b.started('down'), 0);
    expect(b.slots('down', 10)).toBe(0);
    expect(b.slots('up', 10)).toBe(1);
  });
});
