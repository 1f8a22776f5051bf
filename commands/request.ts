import { IODEF_ACTIONS } from '../src/protocol/incident.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { lookup, notifyTarget, trustedPeer } from './_shared.js';

export default defineCommand({
  name: 'request',
  args: '<ref> <peer> <action>',
  summary: 'asks a trusted peer for assistance with an incident (an IODEF action); the answer is announced where you asked',
  details: `Actions: ${IODEF_ACTIONS.join(', ')}.`,
  access: 'admin',
  where: 'both',
  async run(ctx) {
    if (ctx.args.length !== 3) throw new UsageError(ctx.args.length < 3 ? 'give a reference, a peer and an action' : 'too many arguments');
    const [ref, peerArg, actionArg] = ctx.args as [string, string, string];
    const action = IODEF_ACTIONS.find((a) => a === actionArg.toLowerCase());
    if (!action) throw new UsageError(`unknown action '${actionArg}'; one of ${IODEF_ACTIONS.join(', ')}`);
    const stored = lookup(ctx, ref);
    if (!stored) return;
    const peer = trustedPeer(ctx, peerArg);
    if (!peer) return;
    // A request carries the whole incident: what came from an untrusted sender does not leave, as with !forward.
    if (!stored.trusted) {
      ctx.reply(`#${stored.number} came from an untrusted sender and is never sent to peers`);
      return;
    }
    await ctx.services.request(stored, peer.jid, action, ctx.actor, notifyTarget(ctx.where));
    ctx.reply(`Request (${action}) about #${stored.number} sent to ${peer.jid}; the answer will be announced here`);
  },
});
