/**
 * The ingest and latency baseline, in a process of its own like the bot: a bare @xmpp/client that answers every
 * XEP-0268 report IQ with an empty result and, when told, says `echo <IncidentID>` in the room as it answers.
 * Usage: echo-bot.ts SERVICE DOMAIN USERNAME PASSWORD ROOM. Prints "ready" once online and in the room.
 * A chat message "say on" / "say off" from anyone toggles the room lines; "say …" is answered with "ok".
 */
import { client } from '@xmpp/client';
import xml, { type Element } from '@xmpp/xml';
import { INCIDENT_NS, IODEF_NS } from '../src/protocol/iodef.js';
import { plainCredentials } from '../dev-tools/clients.js';

const [service, domain, username, password, room] = process.argv.slice(2);
if (!service || !domain || !username || !password || !room) {
  console.error('usage: echo-bot.ts SERVICE DOMAIN USERNAME PASSWORD ROOM');
  process.exit(2);
}
// PLAIN on loopback, as the bot logs in there (SCRAM in pure JS would cost it a second per login, not per IQ).
const echo = client({ service, domain, resource: 'bot', credentials: plainCredentials(username, password) });
let say = false;
echo.on('error', () => undefined);
echo.iqCallee.set(INCIDENT_NS, 'report', (ctx: { element: Element }) => {
  if (say) {
    const id = ctx.element.getChild('Incident', IODEF_NS)?.getChildText('IncidentID') ?? '?';
    void echo.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, `echo ${id}`)));
  }
  return true;
});
echo.on('stanza', (stanza: Element) => {
  if (!stanza.is('message') || stanza.attrs.type !== 'chat') return;
  const body = stanza.getChildText('body');
  if (body === 'say on' || body === 'say off') {
    say = body === 'say on';
    void echo.send(xml('message', { to: stanza.attrs.from as string, type: 'chat' }, xml('body', {}, 'ok')));
  }
});
echo.on('online', async () => {
  await echo.send(xml('presence'));
  await echo.send(xml('presence', { to: `${room}/echo` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  console.log('ready');
});
process.on('SIGTERM', () => void echo.stop().finally(() => process.exit(0)));
await echo.start();
