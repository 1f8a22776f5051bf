/**
 * The bot's implementation of TriageServices: turns a triage decision into durable state and owed stanzas.
 * command → workflow → revision → outbox (committed together) → delivery.
 */
import type { Config } from '../core/config.js';
import { formatFor, reportPayload, revisionRecipients } from '../core/revisions.js';
import { outboxEntry, type OwedStanza } from '../core/outbox.js';
import type { IncidentStore, StoredIncident } from '../core/store.js';
import { emptyIncident, type Incident } from '../protocol/incident.js';
import { encodeIodef } from '../protocol/iodef.js';
import { domainOf } from '../protocol/validate.js';
import type { Element } from '@xmpp/xml';
import type { CommandSpec } from './command.js';
import type { TriageServices } from './context.js';

export interface ServiceDeps {
  config: Config;
  store: IncidentStore;
  commands: readonly CommandSpec[];
  /** Our own full JID (the `from` of incidents we originate). */
  selfJid: string;
  /** Wakes the delivery loop after new entries are committed. */
  kickDelivery(): void;
  stats(): Record<string, number>;
}

export function createServices(deps: ServiceDeps): TriageServices {
  const { config, store } = deps;
  const now = () => new Date().toISOString();

  const owe = (owed: OwedStanza) => store.enqueue(outboxEntry(owed, now()));

  const oweReport = (stored: StoredIncident, to: string, purpose: string, payload: Element) => {
    const format = formatFor(to, stored, config.peers);
    owe({
      to,
      stanza: format === 'iodef' ? 'iq' : 'message',
      ...(format === 'iodef' ? { iqType: 'set' as const } : {}),
      payload: payload.toString(),
      number: stored.number,
      purpose,
    });
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
      for (const r of recipients) oweReport(stored, r.jid, `revision (${purpose})`, reportPayload(stored.incident, r.format));
      await store.commit();
      deps.kickDelivery();
      return recipients.map((r) => r.jid);
    },

    async forward(stored, peerJid, by) {
      const format = formatFor(peerJid, stored, config.peers);
      oweReport(stored, peerJid, 'forward', reportPayload(stored.incident, format));
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
        oweReport(stored, peer.jid, 'new report', reportPayload(incident, formatFor(peer.jid, undefined, config.peers)));
        remember(stored, peer.jid);
      }
      await store.commit();
      deps.kickDelivery();
      return stored;
    },

    async inquire(peerJid, id, site, notify) {
      const query: Incident = { ...emptyIncident(id), site: site ?? domainOf(peerJid) };
      owe({ to: peerJid, stanza: 'iq', iqType: 'get', payload: encodeIodef('inquiry', query).toString(), purpose: `inquiry about ${id}`, notify });
      await store.commit();
      deps.kickDelivery();
    },

    async request(stored, peerJid, action, by, notify) {
      const incident: Incident = { ...stored.incident, expectation: { action, texts: [] } };
      owe({
        to: peerJid,
        stanza: 'iq',
        iqType: 'get',
        payload: encodeIodef('request', incident).toString(),
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

    export(stored, format) {
      if (format === 'json') return JSON.stringify(stored.incident, null, 2);
      return reportPayload(stored.incident, format).toString();
    },

    now,
  };
}
