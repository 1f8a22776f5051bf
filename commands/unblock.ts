import { clip, line } from '../src/core/flat-text.js';
import { applyUnblock, findBlocked } from '../src/mitigation/block.js';
import { normaliseTarget } from '../src/mitigation/rtbl.js';
import { looksLikeRef } from '../src/triage/args.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { lookup, revisionNote } from './_shared.js';

export default defineCommand({
  name: 'unblock',
  args: '<ref|jid|domain>',
  summary: 'retracts block-list items: every block of an incident, or one JID or domain',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    if (!ctx.services.config.rtbl) {
      ctx.reply('No block list is configured (rtbl in the configuration).');
      return;
    }
    if (ctx.args.length !== 1) throw new UsageError(ctx.args.length ? 'too many arguments' : 'give a reference, a JID or a domain');
    const token = ctx.args[0]!;
    let stored;
    let target: string | undefined;
    if (looksLikeRef(token)) {
      stored = lookup(ctx, token);
      if (!stored) return;
    } else {
      const t = normaliseTarget(token);
      if (typeof t !== 'string') {
        ctx.reply(t.error);
        return;
      }
      target = t;
      stored = findBlocked(ctx.services, t);
      if (!stored) {
        ctx.reply(line`${clip(t, 200)} is not on the block list (not published by this bot).`);
        return;
      }
    }
    const { targets, peers } = await applyUnblock(ctx.services, stored, ctx.actor, target);
    if (targets.length === 0) {
      ctx.reply(`#${stored.number} has nothing on the block list.`);
      return;
    }
    ctx.reply(line`#${stored.number}: ${clip(targets.join(', '), 400)} retracted (owed; !blocks shows it) ${revisionNote(peers)}`);
  },
});
