import { formatFor } from '../src/core/revisions.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { lookup, trustedPeer } from './_shared.js';

export default defineCommand({
  name: 'forward',
  args: '<ref> <peer>',
  summary: 'sends an incident to a configured trusted peer, in its format',
  details: 'The peer is written as in the configuration (peers[].jid). Incidents from untrusted senders are never forwarded.',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    if (ctx.args.length !== 2) throw new UsageError(ctx.args.length < 2 ? 'give a reference and a peer' : 'too many arguments');
    const stored = lookup(ctx, ctx.args[0]!);
    if (!stored) return;
    const peer = trustedPeer(ctx, ctx.args[1]!);
    if (!peer) return;
    if (!stored.trusted) {
      ctx.reply(`#${stored.number} came from an untrusted sender and is never forwarded`);
      return;
    }
    await ctx.services.forward(stored, peer.jid, ctx.actor);
    ctx.reply(`#${stored.number} forwarded to ${peer.jid} (${formatFor(peer.jid, stored, ctx.services.config.peers)})`);
  },
});
