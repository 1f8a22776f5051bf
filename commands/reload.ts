import { defineCommand, UsageError } from '../src/triage/command.js';

export default defineCommand({
  name: 'reload',
  args: '',
  summary: 're-reads the configuration file and applies trust list, admins, rooms and limits without reconnecting',
  details: 'Same as SIGHUP. An invalid file changes nothing (the reply says which key is wrong); settings that need a reconnect are named.',
  access: 'admin',
  where: 'dm',
  async run(ctx) {
    if (ctx.args.length) throw new UsageError('reload takes no arguments');
    if (!ctx.services.reload) {
      ctx.reply('This bot cannot reload its configuration (it was not started from a file).');
      return;
    }
    const result = await ctx.services.reload();
    ctx.reply(result.lines.join('\n'));
  },
});
