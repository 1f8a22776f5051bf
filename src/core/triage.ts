/**
 * Triage actions admins take on an incident. Each records who did what and when in the timeline, and in the
 * incident's IODEF History (so the revision sent to peers carries it), and tells whether a revision is owed.
 * Pure: the caller commits the store and queues the revisions. Every change to the incident goes through
 * editableIncident(), so the first version received stays as it was.
 */
import type { Address, HistoryItem, Severity } from '../protocol/incident.js';
import { editableIncident, type StoredIncident } from './stored-incident.js';

export type TriageOutcome = { ok: true; message: string; revision: 'updated' | 'resolved' } | { ok: false; message: string };

const refused = (message: string): TriageOutcome => ({ ok: false, message });

function record(stored: StoredIncident, at: string, who: string, action: string, historyAction: string, text?: string): void {
  stored.timeline.push({ at, who, action, ...(text ? { text } : {}) });
  const item: HistoryItem = { action: historyAction, time: at, who, texts: text ? [{ lang: 'en', text }] : [] };
  editableIncident(stored).history.push(item);
  stored.updatedAt = at;
}

export function acknowledge(stored: StoredIncident, who: string, at: string, note?: string): TriageOutcome {
  if (stored.state === 'acked') return refused(`#${stored.number} is already acknowledged`);
  if (stored.state === 'resolved') return refused(`#${stored.number} is resolved; !reopen it first`);
  stored.state = 'acked';
  editableIncident(stored).status = 'updated';
  record(stored, at, who, 'acknowledged', 'status-triage', note);
  return { ok: true, message: `#${stored.number} acknowledged`, revision: 'updated' };
}

export function solve(stored: StoredIncident, who: string, at: string, text: string, sources: Address[]): TriageOutcome {
  if (stored.state === 'resolved') return refused(`#${stored.number} is already resolved`);
  stored.state = 'resolved';
  editableIncident(stored).status = 'resolved';
  // The solution travels as a legacy <solution> and as an IODEF HistoryItem (remediate-other / block-host),
  // both built from this one entry by the codecs; no separate history item, so IODEF peers do not get it twice.
  editableIncident(stored).solutions.push({
    texts: [{ lang: 'en', text }],
    sources: sources.map((a) => ({ addresses: [a], counters: [], roles: [] })),
    time: at,
    who,
  });
  stored.timeline.push({ at, who, action: 'resolved', text });
  stored.updatedAt = at;
  return { ok: true, message: `#${stored.number} resolved`, revision: 'resolved' };
}

export function reopen(stored: StoredIncident, who: string, at: string, note?: string): TriageOutcome {
  if (stored.state !== 'resolved') return refused(`#${stored.number} is not resolved`);
  stored.state = 'open';
  const incident = editableIncident(stored);
  incident.status = 'updated';
  // The old solutions are history now: neither `!show` nor a peer (a legacy <solution> means "solved") may take
  // them as current.
  for (const s of incident.solutions) {
    incident.history.push({ action: 'remediate-other', time: s.time ?? at, ...(s.who ? { who: s.who } : {}), texts: [{ lang: 'en', text: `earlier solution (reopened since): ${s.texts[0]?.text ?? ''}` }] });
  }
  incident.solutions = [];
  record(stored, at, who, 'reopened', 'status-new-info', note ? `reopened: ${note}` : 'reopened');
  return { ok: true, message: `#${stored.number} reopened`, revision: 'updated' };
}

/** Sets or clears who handles the incident here; a revision tells the peers (IODEF Contact role='tech'). */
export function setOwner(stored: StoredIncident, who: string, at: string, owner: string | undefined): TriageOutcome {
  const current = stored.incident.owner;
  if (owner !== undefined && current === owner) return refused(`#${stored.number} is already owned by ${owner}`);
  if (owner === undefined && current === undefined) return refused(`#${stored.number} has no owner`);
  const incident = editableIncident(stored);
  if (owner === undefined) delete incident.owner;
  else incident.owner = owner;
  if (incident.status === 'new') incident.status = 'updated';
  record(stored, at, who, owner === undefined ? 'released' : 'owner set', 'status-triage', owner === undefined ? `released by ${who}` : `owner: ${owner}`);
  return {
    ok: true,
    message: owner === undefined ? `#${stored.number} has no owner now` : `#${stored.number} is owned by ${owner}`,
    revision: stored.state === 'resolved' ? 'resolved' : 'updated',
  };
}

export function addNote(stored: StoredIncident, who: string, at: string, text: string): TriageOutcome {
  record(stored, at, who, 'note', 'status-new-info', text);
  if (stored.incident.status === 'new') editableIncident(stored).status = 'updated';
  return { ok: true, message: `note added to #${stored.number}`, revision: stored.state === 'resolved' ? 'resolved' : 'updated' };
}

export function setSeverity(stored: StoredIncident, who: string, at: string, severity: Severity): TriageOutcome {
  if (stored.incident.severity === severity) return refused(`#${stored.number} already has severity ${severity}`);
  const before = stored.incident.severity;
  editableIncident(stored).severity = severity;
  if (stored.incident.status === 'new') editableIncident(stored).status = 'updated';
  record(stored, at, who, 'severity', 'status-new-info', `severity changed from ${before ?? 'unknown'} to ${severity}`);
  return { ok: true, message: `#${stored.number} now has severity ${severity}`, revision: stored.state === 'resolved' ? 'resolved' : 'updated' };
}

export function relate(stored: StoredIncident, who: string, at: string, other: { id: string; site?: string }, label: string): TriageOutcome {
  const key = other.id.toLowerCase();
  if (stored.incident.id.toLowerCase() === key) return refused('an incident cannot be related to itself');
  if (stored.incident.related.some((r) => r.id.toLowerCase() === key)) return refused(`#${stored.number} is already related to ${label}`);
  editableIncident(stored).related.push({ id: other.id, ...(other.site ? { site: other.site } : {}) });
  if (stored.incident.status === 'new') editableIncident(stored).status = 'updated';
  record(stored, at, who, 'related', 'status-new-info', `related to ${label}`);
  return { ok: true, message: `#${stored.number} related to ${label}`, revision: stored.state === 'resolved' ? 'resolved' : 'updated' };
}
