/**
 * What a command handler receives (grammY style): one typed context carrying who asked, where, the parsed
 * arguments, a way to reply, and the services that act on incidents.
 */
import type { Config } from '../core/config.js';
import type { IncidentStore, OutboxEntry, StoredIncident } from '../core/store.js';
import type { Incident } from '../protocol/incident.js';
import type { CommandSpec } from './command.js';
import type { Mutes } from '../core/mutes.js';
import type { ProfileKnowledge } from '../core/peer-summary.js';

export interface Sender {
  /** Real bare JID, when known (always in a DM; in a room only if the room shows it to the bot). */
  jid?: string;
  /** Room nick, in a room. */
  nick?: string;
  isAdmin: boolean;
}

/** Where a command was typed. `operators`: the room is a configured operators room (the only rooms giving rights). */
export type Where = { kind: 'room'; room: string; operators?: boolean } | { kind: 'dm'; from: string };

/** The services commands act through; implemented by the bot (src/triage/services.ts). */
export interface TriageServices {
  config: Config;
  store: IncidentStore;
  commands: readonly CommandSpec[];
  /** Records a change durably and owes the revision to every trusted peer that knows the incident. */
  revise(stored: StoredIncident, purpose: string): Promise<string[]>;
  /** Sends the incident to one peer in its format (forward). */
  forward(stored: StoredIncident, peerJid: string, by: string): Promise<void>;
  /** Stores a locally originated incident and sends it to every trusted peer; returns it stored. */
  originate(incident: Incident, by: string): Promise<StoredIncident>;
  inquire(peerJid: string, id: string, site: string | undefined, notify: string): Promise<void>;
  request(stored: StoredIncident, peerJid: string, action: string, by: string, notify: string): Promise<void>;
  stats(): Record<string, number>;
  outbox(): readonly OutboxEntry[];
  /** Mutes in force (src/core/mutes.ts). */
  mutes?: Mutes;
  /** The real JID behind a nick in a room the bot is in, when the room shows it. */
  realJidOf?(room: string, nick: string): string | undefined;
  /** Re-reads the config file and applies what can change live; lines say what happened. */
  reload?(): Promise<{ ok: boolean; lines: string[] }>;
  /** What is known of a peer's profile now (configured, or detected at first contact). */
  peerProfile?(jid: string): ProfileKnowledge | undefined;
  /** The document as the bot would send it. */
  export(stored: StoredIncident, format: 'iodef' | 'legacy' | 'json'): string;
  now(): string;
}

export interface CommandContext {
  /** The command name as typed (lower-case). */
  command: string;
  /** Whitespace-separated arguments after the command name. */
  args: string[];
  /** Everything after the command name, as typed. */
  rest: string;
  sender: Sender;
  where: Where;
  /** Replies where the command came from (the room, or the DM). */
  reply(text: string): void;
  services: TriageServices;
  /** Who to record in the timeline: the real JID, or `nick (room)` for read-only commands. */
  actor: string;
}
