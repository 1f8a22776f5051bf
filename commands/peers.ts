import { clip, line } from '../src/core/flat-text.js';
import { peerLine } from '../src/core/peer-summary.js';
import { defineCommand, UsageError } from '../src/triage/command.js';

export default defineCommand({
  name: 'peers',
  args: '',
  summary: 'lists the configured peers with their trust, format and profile (configured or detected)',
  details: 'A profile adapts what is sent to what a peer’s software accepts (metronome: Metronome IM’s handler).',
  access: 'admin',
  where: 'both',
  run(ctx) {
    if (ctx.args.length) throw new UsageError('peers takes no arguments');
    const { peers } = ctx.services.config;
    if (peers.length === 0) {
      ctx.reply('No peers configured (config "peers").');
      return;
    }
    // The software name is the peer's words: flattened and clipped like any peer text.
    const lines = peers.map((p) => line`${clip(peerLine(p, ctx.services.peerProfile?.(p.jid)), 300)}`);
    ctx.reply([`Peers (${peers.length}):`, ...lines].join('\n'));
  },
});
