import { clip, line } from '../src/core/flat-text.js';
import type { OutboxEntry } from '../src/core/store.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { plural, replyLines } from './_shared.js';

/** At most this many entries are listed. */
export const OUTBOX_LIMIT = 50;

export function outboxLine(e: OutboxEntry): string {
  const error = e.lastError ? line`, last error ${clip(e.lastError, 200)}` : '';
  return line`${e.number !== undefined ? `#${e.number} ` : ''}${clip(e.purpose, 100)} → ${clip(e.to, 200)} (attempts ${e.attempts}, next try ${e.nextAttemptAt}${error})`;
}

export default defineCommand({
  name: 'outbox',
  args: '',
  summary: 'lists what the bot still owes peers (revisions, forwards, inquiries) and why it is not delivered yet',
  access: 'admin',
  where: 'both',
  run(ctx) {
    if (ctx.args.length) throw new UsageError('outbox takes no arguments');
    const entries = ctx.services.outbox();
    if (entries.length === 0) {
      ctx.reply('Nothing owed to peers.');
      return;
    }
    const lines = [`${plural(entries.length, 'stanza')} owed to peers:`, ...entries.slice(0, OUTBOX_LIMIT).map(outboxLine)];
    if (entries.length > OUTBOX_LIMIT) lines.push(`… and ${entries.length - OUTBOX_LIMIT} more`);
    replyLines(ctx, lines);
  },
});
