/**
 * The bot's real-time block list (RTBL), as Prosody's and ejabberd's `mod_muc_rtbl` read it: one pubsub item per
 * blocked entity, item id = lowercase hex SHA-256 of the bare JID or of the domain, payload a XEP-0377 `<report/>`
 * naming the incident. Publishing and retracting are owed work like revisions: outbox entries (IQ sets to the
 * pubsub service), committed with the incident's change, retried until the service answers, kept across restarts.
 */
import { createHash } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { outboxEntry } from '../core/outbox.js';
import type { IncidentStore, StoredIncident } from '../core/store.js';
import { bareJid, checkJid } from '../protocol/validate.js';
import type { Client } from '../xmpp/connection.js';
import { REPORTING_NS } from './abuse-reports.js';
import type { RtblConfig } from './rtbl-config.js';

export const PUBSUB_NS = 'http://jabber.org/protocol/pubsub';
const PUBSUB_OWNER_NS = 'http://jabber.org/protocol/pubsub#owner';
const DATA_NS = 'jabber:x:data';
/** Outbox purposes start with this, so `!blocks` can find what is still owed. */
export const RTBL_PURPOSE = 'rtbl';

/** A blockable entity as mod_muc_rtbl compares it: a lower-cased bare JID or domain. */
export function normaliseTarget(value: string): string | { error: string } {
  const v = value.trim();
  const bad = checkJid(v);
  if (bad) return { error: `${v}: ${bad}` };
  if (v.includes('/')) return { error: `${v}: give a bare JID or a domain, not a full JID` };
  return bareJid(v).toLowerCase();
}

/** The item id: lowercase hex SHA-256 of the bare JID or domain (what mod_muc_rtbl hashes on join). */
export function rtblHash(target: string): string {
  return createHash('sha256').update(target, 'utf8').digest('hex');
}

export function publishPayload(rtbl: RtblConfig, target: string, stored: StoredIncident, reason: string): Element {
  const reasonUri = reason === 'abuse' ? 'urn:xmpp:reporting:abuse' : 'urn:xmpp:reporting:spam';
  return xml(
    'pubsub',
    { xmlns: PUBSUB_NS },
    xml(
      'publish',
      { node: rtbl.node },
      xml('item', { id: rtblHash(target) }, xml('report', { xmlns: REPORTING_NS, reason: reasonUri }, xml('text', {}, `incident #${stored.number} (${stored.incident.id})`))),
    ),
  );
}

/** `notify='true'`: without it the subscribers (the MUC services) would never hear of the retraction. */
export function retractPayload(rtbl: RtblConfig, target: string): Element {
  return xml('pubsub', { xmlns: PUBSUB_NS }, xml('retract', { node: rtbl.node, notify: 'true' }, xml('item', { id: rtblHash(target) })));
}

/** Owes the pubsub service one publish or retract (the caller commits, in the same batch as the incident). */
export function oweRtbl(store: IncidentStore, rtbl: RtblConfig, payload: Element, stored: StoredIncident, what: string, notify?: string): void {
  store.enqueue(
    outboxEntry({ to: rtbl.service, stanza: 'iq', iqType: 'set', payload: payload.toString(), number: stored.number, purpose: `${RTBL_PURPOSE} ${what}`, ...(notify ? { notify } : {}) }),
  );
}

/** Owed RTBL stanzas not yet answered, for `!blocks`. */
export function pendingRtbl(store: IncidentStore): Array<{ number?: number; purpose: string; attempts: number; lastError?: string }> {
  return store.outbox.filter((e) => e.purpose.startsWith(`${RTBL_PURPOSE} `));
}

/**
 * Makes sure the node exists: creates it, open to subscribers, publishing for its owner (the bot) only. `conflict`
 * means it exists already. Called on every (re)connection; failures are logged and publishing is retried anyway.
 */
export async function ensureRtblNode(xmpp: Client, rtbl: RtblConfig, log: Logger): Promise<'created' | 'exists' | 'failed'> {
  const field = (v: string, value: string) => xml('field', { var: v }, xml('value', {}, value));
  const create = xml(
    'iq',
    { type: 'set', to: rtbl.service },
    xml(
      'pubsub',
      { xmlns: PUBSUB_NS },
      xml('create', { node: rtbl.node }),
      xml(
        'configure',
        {},
        xml(
          'x',
          { xmlns: DATA_NS, type: 'submit' },
          field('FORM_TYPE', 'http://jabber.org/protocol/pubsub#node_config'),
          field('pubsub#access_model', 'open'),
          field('pubsub#publish_model', 'publishers'),
          field('pubsub#persist_items', 'true'),
          field('pubsub#max_items', 'max'),
        ),
      ),
    ),
  );
  try {
    await xmpp.iqCaller.request(create, 30_000);
    log.info({ service: rtbl.service, node: rtbl.node }, 'RTBL node created');
    return 'created';
  } catch (err) {
    const e = err as { condition?: string; message?: string };
    if (e.condition === 'conflict') return 'exists';
    log.warn({ service: rtbl.service, node: rtbl.node, err: e.condition ?? e.message }, 'RTBL node could not be created; publishing will be retried');
    return 'failed';
  }
}

/** Wires the node check to every connection (one line in bot.ts). */
export function keepRtblNode(xmpp: Client, config: Config, log: Logger): void {
  const rtbl = config.rtbl;
  if (!rtbl) return;
  xmpp.on('online', () => void ensureRtblNode(xmpp, rtbl, log));
}

export { PUBSUB_OWNER_NS };
