import { monotonicNow } from '../src/core/clock.js';
import { clip, line } from '../src/core/flat-text.js';
import { applyBlock, planTargets, rememberPlan, takePlan } from '../src/mitigation/block.js';
import { memberRefusal, roomMembersOf } from '../src/mitigation/room-members.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { lookup, revisionNote } from './_shared.js';

export default defineCommand({
  name: 'block',
  args: '<ref> [jid|domain…] | <ref> confirm',
  summary: 'puts the sources of an incident on the real-time block list (listed first, then confirmed)',
  details:
    'Without JIDs or domains the incident\'s JID sources are blocked. The first call only lists what would be ' +
    'blocked; `!block <ref> confirm` (within 10 minutes) publishes one item per JID or domain on the configured ' +
    'rtbl node (id = SHA-256 of the bare JID or domain), which servers running mod_muc_rtbl apply at once. ' +
    'Admins, members of the operators rooms (and their servers) and this bot\'s own server are refused.',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    const rtbl = ctx.services.config.rtbl;
    if (!rtbl) {
      ctx.reply('No block list is configured (rtbl in the configuration): nothing can be blocked.');
      return;
    }
    const ref = ctx.args[0];
    if (!ref) throw new UsageError('give an incident reference');
    const stored = lookup(ctx, ref);
    if (!stored) return;
    const store = ctx.services.store;
    if (ctx.args.length === 2 && ctx.args[1]!.toLowerCase() === 'confirm') {
      const plan = takePlan(store, stored.number, monotonicNow());
      if (!plan) {
        ctx.reply(`Nothing to confirm for #${stored.number}: first say !block #${stored.number} [jid|domain…] to see what would be blocked.`);
        return;
      }
      const peers = await applyBlock(ctx.services, stored, plan.targets, ctx.actor);
      ctx.reply(line`#${stored.number}: ${clip(plan.targets.join(', '), 400)} published on ${rtbl.service}/${rtbl.node} (owed; !blocks shows it) ${revisionNote(peers)}`);
      return;
    }
    const planned = planTargets(stored, ctx.args.slice(1), ctx.services.config);
    if ('error' in planned) {
      ctx.reply(planned.error);
      return;
    }
    // One of our own rooms' members (or their server) is never blocked; a list the bot cannot read is named.
    const members = await roomMembersOf(ctx.services.config)?.();
    for (const target of planned.targets) {
      const why = members && memberRefusal(target, members.members);
      if (why) {
        ctx.reply(line`refused: ${clip(why, 400)}; nothing blocked`);
        return;
      }
    }
    const unread = members?.unreadable.length
      ? line` (member lists not checked: ${clip(members.unreadable.map((u) => `${u.room} ${u.why}`).join(', '), 300)})`
      : '';
    rememberPlan(store, { number: stored.number, targets: planned.targets, by: ctx.actor, madeAt: monotonicNow() });
    const domains = planned.targets.filter((t) => !t.includes('@'));
    const warning = domains.length ? ` — WARNING: ${domains.join(', ')} blocks every account of that server` : '';
    ctx.reply(line`#${stored.number} would block: ${clip(planned.targets.join(', '), 400)}${warning}. Type !block #${stored.number} confirm to publish.${unread}`);
  },
});
