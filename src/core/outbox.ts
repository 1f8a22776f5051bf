/**
 * A new owed stanza, ready for `store.enqueue`: due now, no attempts yet. One place builds them, so every path
 * that owes a peer something (revisions, forwards, originated reports, inquiries, inquiry answers) is retried
 * and kept across restarts the same way.
 */
import { randomUUID } from 'node:crypto';
import type { OutboxEntry } from './stored-incident.js';

export type OwedStanza = Omit<OutboxEntry, 'id' | 'createdAt' | 'attempts' | 'nextAttemptAt'>;

export function outboxEntry(owed: OwedStanza, at = new Date().toISOString()): OutboxEntry {
  return { ...owed, id: randomUUID(), createdAt: at, attempts: 0, nextAttemptAt: at };
}
