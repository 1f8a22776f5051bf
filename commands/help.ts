import { defineCommand } from '../src/triage/command.js';
import { helpText } from '../src/triage/help.js';

export default defineCommand({
  name: 'help',
  args: '[command]',
  summary: 'lists the commands you can run here, or explains one',
  access: 'anyone',
  where: 'both',
  run(ctx) {
    ctx.reply(helpText(ctx.services.commands, ctx.sender, ctx.where, ctx.args[0]));
  },
});
