import { defineCommand } from '../src/triage/command.js';
import { changeOwner, refsOf } from './_owner.js';

export default defineCommand({
  name: 'release',
  args: '<ref>…',
  summary: 'leaves incidents without an owner',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    await changeOwner(ctx, refsOf(ctx), undefined);
  },
});
