/**
 * Turning a gesture into the text command it stands for, so that it runs through the very same dispatcher,
 * permission checks and workflow as a typed command (one implementation, two front ends).
 */
import type { CommandSpec } from '../triage/command.js';
import { findCommand } from '../triage/dispatch.js';

/** The reaction that acknowledges an announcement. The only one that does anything: nothing destructive may follow from a tap. */
export const ACK_REACTION = '👀';

/** Whether a command's first argument is an incident reference (its declared synopsis starts with `<ref>`). */
export function takesRefFirst(spec: Pick<CommandSpec, 'args'>): boolean {
  return /^<ref>/.test(spec.args);
}

/**
 * A reply to the announcement of #number: `!ack on it` → `!ack #3 on it`, `!solve blocked ip=…` → `!solve #3 blocked ip=…`.
 * Only commands whose first argument is a reference get it; others (`!list`, `!help`) and lines that are not
 * commands are returned unchanged. A reply that already names an incident first (`!ack #5`) is left alone.
 */
export function replyCommandText(text: string, number: number, commands: readonly CommandSpec[]): string {
  const match = /^(\s*!?)(\S+)(\s*)([\s\S]*)$/.exec(text);
  if (!match) return text;
  const [, prefix, name, , rest] = match as unknown as [string, string, string, string, string];
  if (!prefix.includes('!')) return text;
  const spec = findCommand(commands, name.toLowerCase());
  if (!spec || !takesRefFirst(spec)) return text;
  if (/^#\d+(\s|$)/.test(rest)) return text;
  return `${prefix}${name} #${number}${rest ? ` ${rest}` : ''}`;
}

/** The command a set of reactions stands for, or undefined when it stands for none. */
export function reactionCommandText(emojis: readonly string[], number: number): string | undefined {
  return emojis.includes(ACK_REACTION) ? `!ack #${number}` : undefined;
}
