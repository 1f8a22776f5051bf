/**
 * From a chat line to a command run: parsing the name, checking place and permission, answering bad arguments
 * with the usage line. Nothing a user types can crash the bot: every failure becomes a short reply.
 */
import { noRightsHere } from '../core/rights.js';
import { closestCommand } from './suggest.js';
import { UsageError, usageOf, type CommandSpec } from './command.js';
import type { CommandContext, Sender, TriageServices, Where } from './context.js';

export interface ChatLine {
  text: string;
  where: Where;
  sender: Sender;
  reply(text: string): void;
}

export type DispatchResult = 'ignored' | 'ran' | 'refused' | 'usage' | 'failed' | 'unknown';

export function findCommand(commands: readonly CommandSpec[], name: string): CommandSpec | undefined {
  return commands.find((c) => c.name === name);
}

/** Whether a sender may run a command at all (used by `!help` too, so help lists only what the asker may run). */
export function mayRun(spec: CommandSpec, sender: Sender, where: Where): boolean {
  if (where.kind === 'room' && spec.where === 'dm') return false;
  if (where.kind === 'dm' && spec.where === 'room') return false;
  return spec.access === 'anyone' || sender.isAdmin;
}

export async function dispatch(line: ChatLine, services: TriageServices, onError?: (err: unknown) => void): Promise<DispatchResult> {
  const text = line.text.trim();
  const inRoom = line.where.kind === 'room';
  if (inRoom && !text.startsWith('!')) return 'ignored';
  // `! ack #3` and `!ack#3` are `!ack #3`: the name is the letters after the `!`, whatever follows them.
  const body = text.startsWith('!') ? text.slice(1).trimStart() : text;
  const match = /^([a-zA-Z][\w-]*)\s*([\s\S]*)$/.exec(body);
  if (!match) return 'ignored';
  const name = match[1]!.toLowerCase();
  const rest = match[2]!.trim();
  const spec = findCommand(services.commands, name);

  if (!inRoom && !line.sender.isAdmin) {
    line.reply('Sorry, only the administrators of this incident bot can talk to it.');
    return 'refused';
  }
  if (!spec) {
    const guess = closestCommand(name, services.commands.map((c) => c.name));
    const prefix = inRoom ? '!' : '';
    // Unknown !words in the room are other bots' or people's business: only a near miss of ours is answered.
    if (guess) {
      line.reply(`unknown command ${prefix}${name.slice(0, 40)} — did you mean ${prefix}${guess}?`);
      return 'unknown';
    }
    if (inRoom) return 'ignored';
    line.reply(`Unknown command '${name.slice(0, 40)}'. Send 'help' for the list.`);
    return 'unknown';
  }
  if (inRoom && spec.where === 'dm') {
    line.reply(`!${spec.name} works in a direct message only.`);
    return 'refused';
  }
  if (spec.access === 'admin' && !line.sender.isAdmin) {
    const operatorsRoom = line.where.kind !== 'room' || line.where.operators !== false;
    if (inRoom && line.sender.jid === undefined) {
      line.reply(
        `I cannot see your real JID in this room, so I cannot check that you are an admin: ${
          line.sender.nick ?? 'you'
        }, make the room non-anonymous (or make me a moderator) and try again.${
          operatorsRoom ? '' : ' (Here only configured admins may act: this room is not an operators room.)'
        }`,
      );
    } else if (!operatorsRoom && line.where.kind === 'room') {
      line.reply(noRightsHere(services.config, line.where.room));
    } else {
      line.reply(`!${spec.name} is for admins only.`);
    }
    return 'refused';
  }

  const ctx: CommandContext = {
    command: name,
    args: rest ? rest.split(/\s+/) : [],
    rest,
    sender: line.sender,
    where: line.where,
    reply: line.reply,
    services,
    actor: line.sender.jid ?? `${line.sender.nick ?? 'someone'} (${line.where.kind === 'room' ? line.where.room : 'dm'})`,
  };
  try {
    await spec.run(ctx);
    return 'ran';
  } catch (err) {
    if (err instanceof UsageError) {
      line.reply(`${err.why ? `${err.why}. ` : ''}Usage: ${usageOf(spec, inRoom ? '!' : '')}`);
      return 'usage';
    }
    onError?.(err);
    line.reply(`Sorry, ${spec.name} failed: ${(err as Error).message ?? 'internal error'}`);
    return 'failed';
  }
}
