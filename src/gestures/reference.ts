/**
 * The manual's section on gestures and forms (docs/commands.md), generated like the rest of the reference from the
 * command declarations: which commands a reply can run, what a reaction does, which ad-hoc commands exist.
 */
import { adhocCommandsFor } from '../adhoc/adhoc-commands.js';
import type { CommandSpec } from '../triage/command.js';
import { ACK_REACTION, takesRefFirst } from './gesture-text.js';

export function gestureReference(commands: readonly CommandSpec[]): string[] {
  const replyable = commands.filter((c) => c.where !== 'dm' && takesRefFirst(c)).map((c) => `\`!${c.name}\``);
  const forms = adhocCommandsFor(commands);
  return [
    '## Replies, reactions and forms',
    '',
    'Gestures of modern XMPP clients run the same commands, with the same rights, as typed lines. Whoever may not',
    'act is refused privately (a private message through the room).',
    '',
    '| gesture | what it does |',
    '| --- | --- |',
    `| reply (XEP-0461) to an announcement with a command | the command about that incident, without naming it: \`!ack on it\` = \`!ack #N on it\`, \`!solve blocked ip=192.0.2.1\` = \`!solve #N blocked ip=192.0.2.1\`. For ${replyable.join(', ')}; other lines run as typed |`,
    `| reaction (XEP-0444) ${ACK_REACTION} to an announcement | \`!ack #N\` (admins). No other reaction does anything; \`gestures.reactions: false\` turns reactions off |`,
    `| ad-hoc commands (XEP-0050) on the bot's full JID | forms (XEP-0004) for configured admins, choosing among the open incidents and the trusted peers: ${forms.map((f) => `\`${f.node}\` (${f.name.toLowerCase()})`).join(', ')} |`,
    '',
  ];
}
