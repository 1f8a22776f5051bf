/**
 * Who is on the operator's own rooms' member lists (owners, admins, members: XEP-0045 muc#admin), so `!block` can
 * refuse to put one of them (or their server) on the block list. Read when a block is planned, not cached: lists
 * change. A room whose list the bot may not read (it is not a room admin) is named in the answer, not guessed.
 */
import xml, { type Element } from '@xmpp/xml';
import type { Config } from '../core/config.js';
import { operatorsRooms } from '../core/rights.js';
import { bareJid } from '../protocol/validate.js';
import type { Client } from '../xmpp/connection.js';

const MUC_ADMIN_NS = 'http://jabber.org/protocol/muc#admin';
const AFFILIATIONS = ['owner', 'admin', 'member'] as const;

export interface RoomMembers {
  /** Lower-cased bare JIDs, with the room they are affiliated with. */
  members: Array<{ jid: string; room: string }>;
  /** Rooms whose lists could not be read, with why. */
  unreadable: Array<{ room: string; why: string }>;
}

export type MemberLookup = () => Promise<RoomMembers>;

const registry = new WeakMap<object, MemberLookup>();

/** The lookup the bot registered for this configuration (commands see only the config). */
export function roomMembersOf(config: object): MemberLookup | undefined {
  return registry.get(config);
}

export function registerMemberLookup(config: object, lookup: MemberLookup): void {
  registry.set(config, lookup);
}

/** Wires the real lookup (one line in bot.ts). */
export function lookUpRoomMembers(xmpp: Client, config: Config): void {
  registerMemberLookup(config, async () => {
    const out: RoomMembers = { members: [], unreadable: [] };
    for (const room of operatorsRooms(config)) {
      for (const affiliation of AFFILIATIONS) {
        try {
          const reply: Element = await xmpp.iqCaller.request(
            xml('iq', { type: 'get', to: room }, xml('query', { xmlns: MUC_ADMIN_NS }, xml('item', { affiliation }))),
            10_000,
          );
          for (const item of reply.getChild('query', MUC_ADMIN_NS)?.getChildren('item') ?? []) {
            const jid = item.attrs.jid as string | undefined;
            if (jid) out.members.push({ jid: bareJid(jid).toLowerCase(), room });
          }
        } catch (err) {
          const e = err as { condition?: string; message?: string };
          out.unreadable.push({ room, why: `${affiliation} list: ${e.condition ?? e.message ?? 'error'}` });
        }
      }
    }
    return out;
  });
}

/** Why a target must not be blocked because of a room member, or undefined. */
export function memberRefusal(target: string, members: RoomMembers['members']): string | undefined {
  const isDomain = !target.includes('@');
  for (const m of members) {
    if (m.jid === target) return `${target} is on the member list of ${m.room}`;
    if (isDomain && m.jid.slice(m.jid.indexOf('@') + 1) === target) return `${target} is the server of ${m.jid}, on the member list of ${m.room}`;
  }
  return undefined;
}
