import { checkJid, bareJid } from '../src/protocol/validate.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { changeOwner, refsOf } from './_owner.js';

export default defineCommand({
  name: 'assign',
  args: '<ref>… <nick|jid>',
  summary: 'makes someone the owner of incidents: a nick in this room (by the real JID behind it) or a JID',
  details: 'A nick is looked up among the room\'s occupants and the owner recorded by real JID; a JID is taken as given (bare).',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    if (ctx.args.length < 2) throw new UsageError('give references and who');
    const who = ctx.args[ctx.args.length - 1]!;
    const refs = refsOf(ctx, ctx.args.slice(0, -1));
    let owner: string | undefined;
    if (who.includes('@')) {
      if (checkJid(who) !== undefined) throw new UsageError(`'${who}' is not a JID`);
      owner = bareJid(who);
    } else if (ctx.where.kind === 'room') {
      owner = ctx.services.realJidOf?.(ctx.where.room, who);
      if (!owner) {
        ctx.reply(`I cannot see the real JID of ${who.slice(0, 64)} in this room: give their JID instead.`);
        return;
      }
      owner = bareJid(owner);
    } else {
      throw new UsageError('in a direct message, give a JID');
    }
    await changeOwner(ctx, refs, owner);
  },
});
