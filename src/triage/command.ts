/**
 * A command is a function plus declared metadata (Errbot style): name, arguments, who may run it, where, and help
 * text. `!help` and the manual's command reference are generated from these declarations, so they cannot drift.
 */
import type { CommandContext } from './context.js';

export type Access = 'anyone' | 'admin';
/** Where a command may be used: the operators room, a direct message, or both. */
export type Place = 'room' | 'dm' | 'both';

export interface CommandSpec {
  name: string;
  /** The argument synopsis shown in usage lines, e.g. `<ref>… [note]`. */
  args: string;
  /** One line for `!help`. */
  summary: string;
  /** More detail for `!help <command>` and the manual. */
  details?: string;
  access: Access;
  where: Place;
  run(ctx: CommandContext): Promise<void> | void;
}

/** Identity function that keeps each command file's declaration typed. */
export function defineCommand(spec: CommandSpec): CommandSpec {
  return spec;
}

/** Thrown by a command whose arguments do not fit: the dispatcher answers with the usage line. */
export class UsageError extends Error {
  constructor(readonly why?: string) {
    super(why ?? 'bad arguments');
  }
}

export function usageOf(spec: Pick<CommandSpec, 'name' | 'args'>, prefix = '!'): string {
  return `${prefix}${spec.name}${spec.args ? ` ${spec.args}` : ''}`;
}
