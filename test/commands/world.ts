/**
 * A test world for the chat commands: a real IncidentStore on a temp file, a config from parseConfig, and fake
 * TriageServices that record what the commands asked for. Commands are driven through dispatch() as chat lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allCommands } from '../../commands/index.js';
import { parseConfig, type Config } from '../../src/core/config.js';
import { IncidentStore, type OutboxEntry, type StoredIncident } from '../../src/core/store.js';
import { emptyIncident, type Incident } from '../../src/protocol/incident.js';
import type { Sender, TriageServices, Where } from '../../src/triage/context.js';
import { dispatch, type DispatchResult } from '../../src/triage/dispatch.js';

export const NOW = '2026-01-02T03:04:05Z';
export const ROOM = 'operators@conference.example.org';
export const ADMIN_JID = 'alice@example.org/laptop';
export const USER_JID = 'bob@example.org/phone';
export const PEER = 'incidents@peer.example/bot';
export const LEGACY_PEER = 'legacy.example';
export const SHADY = 'shady.example';

/** #1 and #2 share their first 8 characters; #3 is the only one starting c0ffee00. */
export const UUID1 = 'ba51a035-7710-4558-9bbf-34838a4c5b24';
export const UUID2 = 'ba51a035-aaaa-4bbb-8ccc-000000000002';
export const UUID3 = 'c0ffee00-1234-4abc-9def-000000000003';

export type Who = 'admin' | 'user' | 'anon';

export const SENDERS: Record<Who, Sender> = {
  admin: { jid: ADMIN_JID, nick: 'alice', isAdmin: true },
  user: { jid: USER_JID, nick: 'bob', isAdmin: false },
  /** A room occupant whose real JID the room does not show. */
  anon: { nick: 'mallory', isAdmin: false },
};

export interface Calls {
  revise: Array<{ number: number; purpose: string }>;
  forward: Array<{ number: number; peer: string; by: string }>;
  originate: Array<{ incident: Incident; by: string }>;
  inquire: Array<{ peer: string; id: string; site: string | undefined; notify: string }>;
  request: Array<{ number: number; peer: string; action: string; by: string; notify: string }>;
  export: Array<{ number: number; format: string }>;
}

export interface Ran {
  result: DispatchResult;
  replies: string[];
}

export interface World {
  dir: string;
  config: Config;
  store: IncidentStore;
  services: TriageServices;
  calls: Calls;
  outbox: OutboxEntry[];
  counters: Record<string, number>;
  add(edit?: (s: Omit<StoredIncident, 'number' | 'key'>) => void, id?: string): StoredIncident;
  run(text: string, who?: Who, where?: 'room' | 'dm'): Promise<Ran>;
  /** Total calls that change anything (revise, forward, originate, inquire, request). */
  changes(): number;
  close(): Promise<void>;
}

let counter = 0;
/** A distinct UUID per call, shaped like a v4 UUID. */
export function nextUuid(): string {
  counter += 1;
  return `0000${counter.toString(16).padStart(4, '0')}-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
}

export function baseIncident(id: string): Incident {
  const incident = emptyIncident(id);
  incident.site = 'peer.example';
  incident.severity = 3;
  incident.category = 'abuse';
  incident.types = ['spam'];
  incident.texts = [{ lang: 'en', text: 'spam wave' }];
  return incident;
}

export async function makeWorld(opts: { seed?: boolean } = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'incident-bot-commands-'));
  const config = parseConfig({
    xmpp: { service: 'xmpp://127.0.0.1:5222', domain: 'example.org', username: 'incidents', password: 'secret' },
    rooms: { default: ROOM },
    admins: ['alice@example.org'],
    peers: [
      { jid: PEER, trust: 'trusted', format: 'iodef' },
      { jid: LEGACY_PEER, trust: 'trusted', format: 'legacy' },
      { jid: SHADY, trust: 'untrusted' },
    ],
    storage: { path: join(dir, 'incidents.json') },
  });
  const store = await IncidentStore.open(config.storage.path);
  const calls: Calls = { revise: [], forward: [], originate: [], inquire: [], request: [], export: [] };
  const outbox: OutboxEntry[] = [];
  const counters: Record<string, number> = { received: 7, announced: 5 };

  const services: TriageServices = {
    config,
    store,
    commands: allCommands,
    async revise(stored, purpose) {
      calls.revise.push({ number: stored.number, purpose });
      store.save(stored);
      await store.commit();
      return [...stored.knownBy];
    },
    async forward(stored, peer, by) {
      calls.forward.push({ number: stored.number, peer, by });
    },
    async originate(incident, by) {
      calls.originate.push({ incident, by });
      const stored = store.add({
        incident,
        state: 'open',
        trusted: true,
        from: 'incidents@example.org/bot',
        format: 'iodef',
        receivedAt: NOW,
        updatedAt: NOW,
        versions: [],
        timeline: [{ at: NOW, who: by, action: 'reported' }],
        knownBy: config.peers.filter((p) => p.trust === 'trusted').map((p) => p.jid),
        requests: [],
        responses: [],
      });
      await store.commit();
      return stored;
    },
    async inquire(peer, id, site, notify) {
      calls.inquire.push({ peer, id, site, notify });
    },
    async request(stored, peer, action, by, notify) {
      calls.request.push({ number: stored.number, peer, action, by, notify });
    },
    stats: () => counters,
    outbox: () => outbox,
    export(stored, format) {
      calls.export.push({ number: stored.number, format });
      return format === 'json' ? JSON.stringify(stored.incident, null, 2) : `<${format} id="${stored.incident.id}"/>`;
    },
    now: () => NOW,
  };

  const world: World = {
    dir,
    config,
    store,
    services,
    calls,
    outbox,
    counters,
    add(edit = () => {}, id = nextUuid()) {
      const at = '2025-12-01T10:00:00Z';
      const incident = baseIncident(id);
      const entry: Omit<StoredIncident, 'number' | 'key'> = {
        incident,
        state: 'open',
        trusted: true,
        from: PEER,
        format: 'iodef',
        receivedAt: at,
        updatedAt: at,
        versions: [{ at, from: PEER, format: 'iodef', kind: 'report', incident: structuredClone(incident) }],
        timeline: [{ at, who: PEER, action: 'reported' }],
        knownBy: [PEER],
        requests: [],
        responses: [],
      };
      edit(entry);
      return store.add(entry);
    },
    async run(text, who = 'admin', place = 'room') {
      // Commands read what is committed (the bot commits before it tells anyone about a change).
      await store.flush();
      const replies: string[] = [];
      const sender = SENDERS[who];
      const where: Where = place === 'room' ? { kind: 'room', room: ROOM } : { kind: 'dm', from: sender.jid ?? 'nobody@example.org' };
      const result = await dispatch({ text, where, sender, reply: (t) => replies.push(t) }, services, (err) => {
        throw err;
      });
      return { result, replies };
    },
    changes: () => calls.revise.length + calls.forward.length + calls.originate.length + calls.inquire.length + calls.request.length,
    async close() {
      await store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };

  if (opts.seed !== false) seed(world);
  await store.commit();
  return world;
}

/**
 * #1 trusted, from the IODEF peer, known by two peers, with a source JID and IP.
 * #2 trusted, known by nobody else, acknowledged.
 * #3 untrusted, from shady.example, resolved-free, open.
 */
function seed(world: World): void {
  world.add((e) => {
    e.incident.severity = 2;
    e.incident.category = 'muc';
    e.incident.types = ['presence', 'long-messages'];
    e.incident.texts = [
      { lang: 'de', text: 'Präsenzflut im Raum' },
      { lang: 'en', text: 'presence flood in the room' },
    ];
    e.incident.sources = [
      { addresses: [{ kind: 'jid', value: 'spammer@evil.example' }], counters: [], roles: [] },
      { addresses: [{ kind: 'ip', value: '203.0.113.7', version: 4, port: 5222 }], counters: [], roles: [] },
    ];
    e.incident.targets = [{ addresses: [{ kind: 'jid', value: 'lobby@conference.peer.example' }], counters: [], roles: [] }];
    e.incident.admins = ['carol@peer.example'];
    e.knownBy = [PEER, LEGACY_PEER];
  }, UUID1);
  world.add((e) => {
    e.state = 'acked';
    e.knownBy = [];
    e.incident.texts = [{ lang: 'en', text: 'registration spam from a botnet' }];
  }, UUID2);
  world.add((e) => {
    e.trusted = false;
    e.from = 'spam@shady.example/x';
    e.knownBy = ['spam@shady.example/x'];
    e.incident.site = 'shady.example';
    e.incident.texts = [{ lang: 'en', text: 'totally legit report' }];
  }, UUID3);
}

/** The lines of every reply, flattened. */
export function linesOf(replies: readonly string[]): string[] {
  return replies.flatMap((r) => r.split('\n'));
}
