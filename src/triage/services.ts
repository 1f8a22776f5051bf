/**
 * The bot's implementation of TriageServices: turns a triage decision into durable state and owed stanzas.
 * command → workflow → revision → outbox (committed together) → delivery.
 */
import type { Config } from '../core/config.js';
import { formatFor, peerPayload, reportPayload, revisionRecipients } from '../core/revisions.js';
import { outboxEntry, type OwedStanza } from '../core/outbox.js';
import type { IncidentStore, StoredIncident } from '../core/store.js';
import { emptyIncident, type Incident } from '../protocol/incident.js';
import { domainOf } from '../protocol/validate.js';
import { fitIncident } from '../core/fit-incident.js';
import { envelopeBytes, escapedTextBytes } from '../core/stanza-size.js';
import type { CommandSpec } from './command.js';
import type { TriageServices } from './context.js';
import type { Mutes } from '../core/mutes.js';
import type { ProfileKnowledge } from '../core/peer-summary.js';

export interface ServiceDeps {
  config: Config;
  store: IncidentStore;
  commands: readonly CommandSpec[];
  /** Our own full JID (the `from` of incidents we originate). */
  selfJid: string;
  /** Wakes the delivery loop after new entries are committed. */
  kickDelivery(): void;
  stats(): Record<string, number>;
  peerProfile?(jid: string): ProfileKnowledge | undefined;
  reload?(): Promise<{ ok: boolean; lines: string[] }>;
  realJidOf?(room: string, nick: string): string | undefined;
  mutes?: Mutes;
}

/** The admin an export goes to is not known here: room for a long full JID. */
const EXPORT_RECIPIENT_PLACEHOLDER = 'x'.repeat(300);

export function createServices(deps: ServiceDeps): TriageServices {
  const { config, store } = deps;
  const now = () => new Date().toISOString();

  const owe = (owed: OwedStanza) => store.enqueue(outboxEntry(owed, now()));
  const maxBytes = config.limits.maxStanzaBytes;

  /** Owes `to` a report about the incident, in the peer's format, fitted to the stanza size limit. */
  const oweReport = (stored: StoredIncident, to: string, purpose: string, incident: Incident, format = formatFor(to, stored, config.peers)) => {
    const envelope = format === 'iodef' ? { to, stanza: 'iq' as const, iqType: 'set' as const } : { to, stanza: 'message' as const };
    owe({ ...envelope, payload: peerPayload('report', incident, format, envelope, maxBytes).value, number: stored.number, purpose });
  };

  const remember = (stored: StoredIncident, jid: string) => {
    if (!stored.knownBy.some((k) => k.toLowerCase() === jid.toLowerCase())) stored.knownBy.push(jid);
  };

  return {
    config,
    store,
    commands: deps.commands,

    async revise(stored, purpose) {
      store.save(stored);
      const recipients = revisionRecipients(stored, config);
      for (const r of recipients) oweReport(stored, r.jid, `revision (${purpose})`, stored.incident, r.format);
      await store.commit();
      deps.kickDelivery();
      return recipients.map((r) => r.jid);
    },

    async forward(stored, peerJid, by) {
      const format = formatFor(peerJid, stored, config.peers);
      oweReport(stored, peerJid, 'forward', stored.incident, format);
      remember(stored, peerJid);
      stored.timeline.push({ at: now(), who: by, action: 'forwarded', text: `to ${peerJid} (${format})` });
      store.save(stored);
      await store.commit();
      deps.kickDelivery();
    },

    async originate(incident, by) {
      const at = now();
      const trusted = config.peers.filter((p) => p.trust === 'trusted');
      const stored = store.add({
        incident,
        state: 'open',
        trusted: true,
        from: deps.selfJid,
        format: 'iodef',
        receivedAt: at,
        updatedAt: at,
        versions: [{ at, from: by, format: 'local', kind: 'local', incident: structuredClone(incident) }],
        timeline: [{ at, who: by, action: 'reported' }],
        knownBy: [],
        requests: [],
        responses: [],
      });
      for (const peer of trusted) {
        oweReport(stored, peer.jid, 'new report', incident, formatFor(peer.jid, undefined, config.peers));
        remember(stored, peer.jid);
      }
      await store.commit();
      deps.kickDelivery();
      return stored;
    },

    async inquire(peerJid, id, site, notify) {
      const query: Incident = { ...emptyIncident(id), site: site ?? domainOf(peerJid) };
      const envelope = { to: peerJid, stanza: 'iq' as const, iqType: 'get' as const };
      owe({ ...envelope, payload: peerPayload('inquiry', query, 'iodef', envelope, maxBytes).value, purpose: `inquiry about ${id}`, notify });
      await store.commit();
      deps.kickDelivery();
    },

    async request(stored, peerJid, action, by, notify) {
      const incident: Incident = { ...stored.incident, expectation: { action, texts: [] } };
      const envelope = { to: peerJid, stanza: 'iq' as const, iqType: 'get' as const };
      owe({
        ...envelope,
        payload: peerPayload('request', incident, 'iodef', envelope, maxBytes).value,
        number: stored.number,
        purpose: `request (${action})`,
        notify,
      });
      remember(stored, peerJid);
      stored.timeline.push({ at: now(), who: by, action: 'requested assistance', text: `${action} from ${peerJid}` });
      store.save(stored);
      await store.commit();
      deps.kickDelivery();
    },

    stats: deps.stats,
    outbox: () => store.outbox,
    ...(deps.peerProfile ? { peerProfile: deps.peerProfile } : {}),
    ...(deps.reload ? { reload: deps.reload } : {}),
    ...(deps.realJidOf ? { realJidOf: deps.realJidOf } : {}),
    ...(deps.mutes ? { mutes: deps.mutes } : {}),

    export(stored, format) {
      // Sent as the body of a chat message: fitted so that the body, escaped once more, stays under the limit.
      const around = envelopeBytes('message', { to: EXPORT_RECIPIENT_PLACEHOLDER, type: 'chat' }) + '<body></body>'.length;
      const encode = (incident: Incident) => {
        const text = format === 'json' ? JSON.stringify(incident, null, 2) : reportPayload(incident, format).toString();
        return { value: text, bytes: around + escapedTextBytes(text) };
      };
      return fitIncident(stored.incident, maxBytes, encode).value;
    },

    now,
  };
}
