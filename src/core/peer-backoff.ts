/**
 * Backoff per peer, not per owed stanza: 10,000 answers owed to a peer that is down are one problem, not 10,000.
 *
 * A peer whose delivery failed with "not reachable now" is down: nothing is sent to it until its backoff time, then
 * ONE stanza goes as a probe while the rest wait. A failed probe doubles the wait (retryMin → retryMax); a probe
 * that gets any answer (a result, or a refusal: the peer is there and said no) brings the peer back up, and its
 * backlog flows again, at most `maxInFlight` at a time. A peer never heard from starts with one stanza in flight too
 * (after a restart its entries are all due at once; if it is down, one IQ finds out, not all of them).
 *
 * Several stanzas in flight when a peer goes down fail together: only the first failure of a round is a backoff
 * step (one log line per peer per step), the others just wait with it.
 */
export interface BackoffPolicy {
  retryMinMs: number;
  retryMaxMs: number;
  /** Stanzas in flight at once to a peer that is up. */
  maxInFlight: number;
}

interface PeerState {
  /** Answered since its last failure (false for a peer not heard from yet, or down). */
  up: boolean;
  /** Consecutive failed rounds. */
  failures: number;
  /** Monotonic time before which nothing is sent. */
  resumeAt: number;
  inFlight: number;
  /** Bumped by every backoff step: an attempt started in an older round does not step again. */
  round: number;
}

/** What an attempt carries from start to end. */
export interface AttemptToken {
  peer: string;
  round: number;
}

export type FailureStep =
  /** This failure started a new round of backoff: log it. */
  | { step: true; failures: number; delayMs: number; resumeAt: number }
  /** Part of a round already counted: wait with it. */
  | { step: false; resumeAt: number };

export class PeerBackoff {
  private readonly peers = new Map<string, PeerState>();

  constructor(private readonly policy: BackoffPolicy) {}

  /** How many more stanzas may go to `peer` at monotonic time `now`. */
  slots(peer: string, now: number): number {
    const state = this.peers.get(peer);
    if (!state) return 1;
    if (now < state.resumeAt) return 0;
    return Math.max(0, (state.up ? this.policy.maxInFlight : 1) - state.inFlight);
  }

  /** When `peer` may be tried again (monotonic), if it is backing off. */
  resumeAt(peer: string, now: number): number | undefined {
    const at = this.peers.get(peer)?.resumeAt;
    return at !== undefined && at > now ? at : undefined;
  }

  isDown(peer: string): boolean {
    const state = this.peers.get(peer);
    return state !== undefined && state.failures > 0;
  }

  started(peer: string): AttemptToken {
    const state = this.stateOf(peer);
    state.inFlight += 1;
    return { peer, round: state.round };
  }

  /** The peer answered (result or refusal). Returns true when it had been down. */
  answered(token: AttemptToken): boolean {
    const state = this.stateOf(token.peer);
    state.inFlight = Math.max(0, state.inFlight - 1);
    const wasDown = state.failures > 0;
    state.up = true;
    state.failures = 0;
    state.resumeAt = 0;
    return wasDown;
  }

  /** The attempt ended without telling anything about the peer (too large, unreadable, stream offline). */
  released(token: AttemptToken): void {
    const state = this.stateOf(token.peer);
    state.inFlight = Math.max(0, state.inFlight - 1);
  }

  /** The peer was not reachable: a new backoff round, unless this attempt belongs to one already counted. */
  failed(token: AttemptToken, now: number): FailureStep {
    const state = this.stateOf(token.peer);
    state.inFlight = Math.max(0, state.inFlight - 1);
    if (token.round !== state.round) return { step: false, resumeAt: state.resumeAt };
    state.up = false;
    state.failures += 1;
    state.round += 1;
    const delayMs = Math.min(this.policy.retryMinMs * 2 ** (state.failures - 1), this.policy.retryMaxMs);
    state.resumeAt = now + delayMs;
    return { step: true, failures: state.failures, delayMs, resumeAt: state.resumeAt };
  }

  /** Forgets peers nothing is owed to any more (memory stays bounded by the outbox). */
  forgetAllBut(peers: ReadonlySet<string>): void {
    for (const [peer, state] of this.peers) if (!peers.has(peer) && state.inFlight === 0) this.peers.delete(peer);
  }

  private stateOf(peer: string): PeerState {
    let state = this.peers.get(peer);
    if (!state) {
      state = { up: false, failures: 0, resumeAt: 0, inFlight: 0, round: 0 };
      this.peers.set(peer, state);
    }
    return state;
  }
}
