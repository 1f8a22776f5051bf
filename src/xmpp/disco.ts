/** XEP-0030 disco#info on the bot's full JID: what the bot is and which incident namespaces it speaks. */
import xml from '@xmpp/xml';
import type { Client } from './connection.js';

export const DISCO_INFO_NS = 'http://jabber.org/protocol/disco#info';
export const FEATURES = [DISCO_INFO_NS, 'urn:xmpp:incident:0', 'urn:xmpp:incident:2', 'urn:xmpp:ping'];

export function answerDiscoInfo(xmpp: Client): void {
  xmpp.iqCallee.get(DISCO_INFO_NS, 'query', () =>
    xml(
      'query',
      { xmlns: DISCO_INFO_NS },
      xml('identity', { category: 'client', type: 'bot', name: 'xmpp-incident-bot' }),
      ...FEATURES.map((v) => xml('feature', { var: v })),
    ),
  );
}
