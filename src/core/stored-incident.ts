/**
 * What the store keeps about an incident and what it owes peers: the shapes shared by the store, the workflow and
 * the commands.
 */
import type { HistoryItem, Incident, IodefKind, LocalizedText } from '../protocol/incident.js';

export type WireFormat = 'legacy' | 'iodef';
export type TriageState = 'open' | 'acked' | 'resolved';

/** One received (or locally made) version of an incident, kept whole. */
export interface IncidentVersion {
  at: string;
  from: string;
  format: WireFormat | 'local';
  kind: IodefKind | 'legacy' | 'local';
  incident: Incident;
}

/** Who did what to an incident, when: the triage timeline. */
export interface TimelineEntry {
  at: string;
  /** A JID: the peer that sent something, or the admin who ran a command. */
  who: string;
  action: string;
  text?: string;
}

/** A request for assistance (IODEF `<request/>`) a peer sent about the incident. */
export interface AssistanceRequest {
  at: string;
  from: string;
  action?: string;
  texts: LocalizedText[];
}

/** A response (IODEF `<response/>`) a peer sent about the incident. */
export interface AssistanceResponse {
  at: string;
  from: string;
  history: HistoryItem[];
  texts: LocalizedText[];
}

export interface StoredIncident {
  /** The short `#N` reference: assigned once, never reused, kept across restarts. */
  number: number;
  /** Identity: the lower-cased UUID when the id is one, else `site/id` (see incidentKey). */
  key: string;
  incident: Incident;
  state: TriageState;
  /** Whether the sender was on the trust list when it arrived (a locally originated incident is trusted). */
  trusted: boolean;
  /** Full JID of the peer it came from, or our own JID when an admin originated it. */
  from: string;
  /** The format the reporter spoke. */
  format: WireFormat;
  receivedAt: string;
  updatedAt: string;
  versions: IncidentVersion[];
  timeline: TimelineEntry[];
  /** JIDs of peers that know this incident: the reporter and everyone it was sent or forwarded to. */
  knownBy: string[];
  requests: AssistanceRequest[];
  responses: AssistanceResponse[];
  /**
   * What was odd in the latest version received but did not stop it being understood (liberal intake, e.g.
   * "Incident/IncidentID: IncidentID without name: site taken from the sender"). Peer text: flattened when shown.
   */
  intakeNotes?: string[];
  /** XEP-0377 abuse reports grouped into this incident (src/mitigation/abuse-reports.ts). */
  abuse?: import('../mitigation/abuse-tally.js').AbuseTally;
  /** What the bot published on its real-time block list for this incident (src/mitigation/rtbl.ts). */
  blocks?: import('../mitigation/abuse-tally.js').BlockRecord[];
  /** Reminders made about it while nobody acknowledged it (config `reminders`). */
  reminded?: number;
  /** No reminder before this time (`!snooze`). */
  snoozedUntil?: string;
}

/**
 * A stanza the bot owes a peer (a revision, a forward, an inquiry, an originated report). Written to the
 * store's log in the same batch as the change that made it owed, so it survives restarts.
 */
export interface OutboxEntry {
  id: string;
  to: string;
  /** 'iq' entries are done when the peer's IQ result arrives; 'message' entries once sent on a live stream. */
  stanza: 'iq' | 'message';
  /** The payload element, serialised (the `<report/>`, `<incident/>`, …) — the stanza wrapper is built at send time. */
  payload: string;
  iqType?: 'get' | 'set';
  /** The `#N` it is about, for `!outbox` and the give-up announcement. */
  number?: number;
  /** What it is, for humans: "revision (acknowledged)", "forward", "inquiry", … */
  purpose: string;
  /** Where to say what came of it (the room or the admin who asked); undefined = the default room. */
  notify?: string;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
}

/**
 * The incident to change in place. A new incident's first version and its current state are one object (the
 * record stores it once, and nothing is copied on the way in); the first change gets the current state its own
 * copy, so the first version keeps what was originally received. Every in-place change goes through here.
 */
export function editableIncident(stored: StoredIncident): Incident {
  const first = stored.versions[0];
  if (first && first.incident === stored.incident) stored.incident = structuredClone(stored.incident);
  return stored.incident;
}
