import { clip, line } from '../src/core/flat-text.js';
import { blockedIncidents } from '../src/mitigation/block.js';
import { pendingRtbl } from '../src/mitigation/rtbl.js';
import { defineCommand } from '../src/triage/command.js';
import { LINES_PER_MESSAGE } from './_shared.js';

export default defineCommand({
  name: 'blocks',
  args: '',
  summary: 'lists what the bot published on the block list, with the incident and admin behind each, and what is still owed',
  access: 'admin',
  where: 'both',
  run(ctx) {
    const rtbl = ctx.services.config.rtbl;
    if (!rtbl) {
      ctx.reply('No block list is configured (rtbl in the configuration).');
      return;
    }
    const lines: string[] = [];
    for (const stored of blockedIncidents(ctx.services)) {
      for (const b of stored.blocks ?? []) {
        if (b.state !== 'published') continue;
        lines.push(line`${clip(b.target, 200)} — #${stored.number} — by ${clip(b.by, 200)} at ${b.at}`);
      }
    }
    const pending = pendingRtbl(ctx.services.store);
    const head = `Block list ${rtbl.service}/${rtbl.node}: ${lines.length} blocked, ${pending.length} pending`;
    const pendingLines = pending.map((p) => line`pending: ${p.purpose}${p.number !== undefined ? ` (#${p.number})` : ''}, ${p.attempts} attempts${p.lastError ? line`, last error ${p.lastError}` : ''}`);
    ctx.reply([head, ...lines, ...pendingLines].slice(0, LINES_PER_MESSAGE).join('\n'));
  },
});
