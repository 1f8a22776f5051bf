import { defineCommand } from '../src/triage/command.js';
import { changeOwner, refsOf } from './_owner.js';

export default defineCommand({
  name: 'take',
  args: '<ref>…',
  summary: 'makes you the owner of incidents (shown in list and show, and told to peers)',
  details: 'Several references or a range #8-#12 may be given. !list mine lists what you own; !release gives it back.',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    const refs = refsOf(ctx);
    // Admins are known by real JID (rights.ts): that is who owns it.
    await changeOwner(ctx, refs, ctx.sender.jid!.toLowerCase());
  },
});
