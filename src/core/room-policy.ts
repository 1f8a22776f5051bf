/** Which MUC rooms the bot may join: `rooms.allow` entries are exact room JIDs or `*@service`. */
import { bareJid, domainOf } from '../protocol/validate.js';

export function roomAllowed(room: string, allow: readonly string[], defaultRoom: string): boolean {
  const wanted = bareJid(room);
  if (wanted === bareJid(defaultRoom)) return true;
  return allow.some((pattern) =>
    pattern.startsWith('*@') ? wanted.includes('@') && domainOf(wanted) === pattern.slice(2).toLowerCase() : bareJid(pattern) === wanted,
  );
}
