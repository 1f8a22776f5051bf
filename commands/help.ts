import { defineCommand } from '../src/triage/command.js';
import { noRightsHere } from '../src/core/rights.js';
import { helpText } from '../src/triage/help.js';

export default defineCommand({
  name: 'help',
  args: '[command]',
  summary: 'lists the commands you can run here, or explains one',
  access: 'anyone',
  where: 'both',
  run(ctx) {
    const text = helpText(ctx.services.commands, ctx.sender, ctx.where, ctx.args[0]);
    // In a room a report named, say that it gives no rights (people there may believe owning it does).
    const { where } = ctx;
    const noRights = where.kind === 'room' && where.operators === false && !ctx.sender.isAdmin;
    ctx.reply(noRights ? `${text}\n${noRightsHere(ctx.services.config, where.room)}` : text);
  },
});
