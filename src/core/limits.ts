/**
 * Flood and size limits on incoming reports: token buckets per sender and per sender domain, and a check that an
 * incident is not larger than the operator accepts. Refused reports are never stored, not even in part.
 *
 * Buckets refill on the monotonic clock: a wall clock stepped back an hour must not empty every bucket (and refuse a
 * trusted peer), nor one stepped forward fill them.
 */
import type { Incident } from '../protocol/incident.js';
import { monotonicNow } from './clock.js';

export interface RateLimit {
  perMinute: number;
  burst: number;
}

/** Token buckets keyed by sender (bare JID, or domain); idle buckets are forgotten so memory stays bounded. */
export class SenderRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private limit: RateLimit,
    private readonly now: () => number = monotonicNow,
  ) {}

  /** New limits (a config reload): buckets keep their tokens, capped at the new burst on their next take. */
  setLimit(limit: RateLimit): void {
    this.limit = limit;
  }

  /** Takes one token for `sender`; false when the sender is over its limit. */
  take(sender: string): boolean {
    const now = this.now();
    const refillPerMs = this.limit.perMinute / 60_000;
    const bucket = this.buckets.get(sender) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (now - bucket.at) * refillPerMs);
    bucket.at = now;
    this.buckets.set(sender, bucket);
    if (this.buckets.size > 10_000) this.forgetIdle(now);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private forgetIdle(now: number): void {
    const fullAfterMs = (this.limit.burst / this.limit.perMinute) * 60_000;
    for (const [key, b] of this.buckets) if (now - b.at > fullAfterMs) this.buckets.delete(key);
  }
}

export interface SizeLimits {
  maxAddresses: number;
  maxTextLength: number;
}

/** A message saying which limit the incident breaks, or undefined when it fits. */
export function checkIncidentSize(incident: Incident, limits: SizeLimits): string | undefined {
  const nodes = [...incident.sources, ...incident.targets, ...incident.solutions.flatMap((s) => s.sources)];
  const addresses = nodes.reduce((n, node) => n + node.addresses.length, 0);
  if (addresses > limits.maxAddresses) return `too many addresses (${addresses}, at most ${limits.maxAddresses})`;
  const texts = [
    ...incident.texts,
    ...incident.solutions.flatMap((s) => s.texts),
    ...incident.history.flatMap((h) => h.texts),
    ...(incident.expectation?.texts ?? []),
  ];
  const longest = texts.reduce((n, t) => Math.max(n, t.text.length), 0);
  if (longest > limits.maxTextLength) return `a text is too long (${longest} characters, at most ${limits.maxTextLength})`;
  return undefined;
}
