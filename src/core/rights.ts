/**
 * Who may command the bot. Authority comes from the configuration only, never from anything a peer or a stranger
 * can create: the configured `admins` (bare JIDs) everywhere, and — only inside the operators rooms the operator
 * configured (`rooms.default`, `rooms.operators`) — the owners and admins of that room. A room the bot joined
 * because a report named it gives nobody any right: whoever created it would otherwise own the bot.
 * Identities are real JIDs (from a direct message's `from`, or what the room shows the bot), never nicks.
 */
import type { Config } from './config.js';
import { bareJid } from '../protocol/validate.js';
import { line } from './flat-text.js';

type RightsConfig = Pick<Config, 'admins' | 'rooms'>;

/** The rooms whose owners/admins have rights, in their own room: the default room and `rooms.operators`. */
export function operatorsRooms(config: RightsConfig): string[] {
  return [...new Set([config.rooms.default, ...config.rooms.operators].map(bareJid))];
}

export function isOperatorsRoom(config: RightsConfig, room: string): boolean {
  const wanted = bareJid(room);
  return bareJid(config.rooms.default) === wanted || config.rooms.operators.some((r) => bareJid(r) === wanted);
}

/** A configured admin (config `admins`): may command the bot in any room it is in and by direct message. */
export function isConfiguredAdmin(config: RightsConfig, jid: string | undefined): boolean {
  if (jid === undefined) return false;
  const wanted = bareJid(jid);
  return config.admins.some((a) => bareJid(a) === wanted);
}

/** Whether a room occupant (real JID, if the room shows it, and affiliation there) may run admin commands there. */
export function isAdminInRoom(config: RightsConfig, room: string, jid: string | undefined, affiliation: string | undefined): boolean {
  if (jid === undefined) return false;
  if (isConfiguredAdmin(config, jid)) return true;
  return (affiliation === 'owner' || affiliation === 'admin') && isOperatorsRoom(config, room);
}

/**
 * The one question every entry point asks: may this person (their real bare or full JID; undefined when the room
 * hides it) run admin commands here? `place` is the room a line was typed in and their affiliation there; without
 * it (a direct message, a private message through a room, an ad-hoc command) only configured admins may.
 */
export function mayAct(config: RightsConfig, realJid: string | undefined, place?: { room: string; affiliation?: string }): boolean {
  return place ? isAdminInRoom(config, place.room, realJid, place.affiliation) : isConfiguredAdmin(config, realJid);
}

/** Said to someone without rights who tries an admin command in a room that is not an operators room. */
export function noRightsHere(config: RightsConfig, room: string): string {
  // The room's JID is as the stanza said it: flattened like everything that did not come from the configuration.
  return line`This room (${bareJid(room)}) is not an operators room: I only announce incidents here, and nobody's affiliation in it gives rights over me. Use ${bareJid(config.rooms.default)}, or a direct message if you are a configured admin.`;
}
