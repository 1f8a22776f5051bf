import { clip, line } from '../src/core/flat-text.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { notifyTarget, trustedPeer } from './_shared.js';

export default defineCommand({
  name: 'inquire',
  args: '<peer> <id> [site]',
  summary: 'asks a trusted peer what it knows about an incident id; the answer is announced where you asked',
  details: 'The site defaults to the peer’s domain.',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    if (ctx.args.length < 2 || ctx.args.length > 3) throw new UsageError(ctx.args.length < 2 ? 'give a peer and an incident id' : 'too many arguments');
    const [peerArg, id, site] = ctx.args as [string, string, string | undefined];
    const peer = trustedPeer(ctx, peerArg);
    if (!peer) return;
    await ctx.services.inquire(peer.jid, id, site, notifyTarget(ctx.where));
    ctx.reply(line`Inquiry about ${clip(id, 100)}${site ? line` at ${clip(site, 100)}` : ''} sent to ${peer.jid}; the answer will be announced here`);
  },
});
