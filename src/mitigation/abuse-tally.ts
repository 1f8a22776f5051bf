/**
 * The shapes kept with an incident by the mitigation features: the tally of XEP-0377 abuse reports grouped into
 * it, and the entries the bot published on its real-time block list. Plain JSON data: stored as-is.
 */

/** One piece of evidence: the forwarded offending message (peer text, flattened and clipped when kept). */
export interface AbuseEvidence {
  /** Which server reported it. */
  reporter: string;
  at: string;
  /** The offending message's sender, its time (the forward's delay stamp) and text. */
  sender?: string;
  stamp?: string;
  text?: string;
}

export interface AbuseTally {
  /** The reported bare JID. */
  jid: string;
  /** `spam`, `abuse` or `other`. */
  reason: string;
  count: number;
  /** The reporting servers, each once, in order of first report. */
  reporters: string[];
  /** The last few pieces of evidence, newest last. */
  evidence: AbuseEvidence[];
}

/** One JID or domain on the block list. */
export interface BlockRecord {
  /** The bare JID or the domain. */
  target: string;
  /** Lowercase hex SHA-256 of `target`: the pubsub item id. */
  hash: string;
  by: string;
  at: string;
  /** `published` once owed (see `!blocks` for what is still pending), `retracted` after `!unblock`. */
  state: 'published' | 'retracted';
  retractedBy?: string;
  retractedAt?: string;
}
