import { randomUUID } from 'node:crypto';
import { emptyIncident, type Address, type Incident } from '../src/protocol/incident.js';
import { bareJid, checkJid, checkSeverity } from '../src/protocol/validate.js';
import { addressOf, splitOptions } from '../src/triage/args.js';
import { defineCommand, UsageError } from '../src/triage/command.js';
import { plural, selfBareJid } from './_shared.js';

export default defineCommand({
  name: 'report',
  args: '<severity> <category>[/<type>…] <text…> [src=JID|IP]… [loc=JID]…',
  summary: 'reports a new incident of ours to every trusted peer',
  details: 'e.g. report 2 muc/presence/long-messages presence flood src=203.0.113.7 loc=operators@conference.example.org',
  access: 'admin',
  where: 'both',
  async run(ctx) {
    const [severityArg, classArg] = ctx.args;
    if (severityArg === undefined || classArg === undefined) throw new UsageError('give a severity, a category and a text');
    const severity = checkSeverity(severityArg);
    if (typeof severity === 'string') throw new UsageError(severity);
    const parts = classArg.split('/');
    if (parts.some((p) => p.trim() === '')) throw new UsageError(`'${classArg}' is not <category>[/<type>…]`);
    const [category, ...types] = parts as [string, ...string[]];
    const { options, words } = splitOptions(ctx.args.slice(2), ['src', 'loc']);
    const text = words.join(' ').trim();
    if (!text) throw new UsageError('missing the text describing the incident');

    const sources: Address[] = [];
    const locations: Address[] = [];
    for (const [key, value] of options) {
      const address = addressOf(key, value);
      if (typeof address === 'string') {
        ctx.reply(`${key}=: ${address}; nothing reported`);
        return;
      }
      (key === 'src' ? sources : locations).push(address);
    }

    const now = ctx.services.now();
    const config = ctx.services.config;
    const incident: Incident = {
      ...emptyIncident(randomUUID()),
      site: config.xmpp.domain,
      status: 'new',
      severity,
      category,
      types,
      texts: [{ lang: 'en', text }],
      sources: sources.map((a) => ({ addresses: [a], counters: [], roles: [] })),
      targets: locations.length ? [{ addresses: locations, counters: [], roles: [] }] : [],
      admins: checkJid(ctx.actor) === undefined ? [bareJid(ctx.actor)] : [],
      room: config.rooms.default,
      times: { begin: now, report: now },
    };
    const stored = await ctx.services.originate(incident, ctx.actor);
    const self = selfBareJid(ctx);
    const peers = new Set(stored.knownBy.map((k) => k.toLowerCase()).filter((k) => bareJid(k) !== self)).size;
    const sent = peers === 0 ? 'no trusted peer to send it to' : `sent to ${plural(peers, 'trusted peer')}`;
    ctx.reply(`#${stored.number} reported (${stored.incident.id}) — ${sent}`);
  },
});
