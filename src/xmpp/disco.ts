/**
 * XEP-0030 disco#info on the bot's full JID: what the bot is and which namespaces it speaks. Nodes (the ad-hoc
 * commands, src/adhoc) answer for themselves through `addNode`; any other node is item-not-found.
 */
import xml, { type Element } from '@xmpp/xml';
import type { Client } from './connection.js';
import { itemNotFound } from './stanza-errors.js';

export const DISCO_INFO_NS = 'http://jabber.org/protocol/disco#info';
export const DISCO_ITEMS_NS = 'http://jabber.org/protocol/disco#items';
export const COMMANDS_NS = 'http://jabber.org/protocol/commands';
export const FEATURES = [DISCO_INFO_NS, DISCO_ITEMS_NS, COMMANDS_NS, 'urn:xmpp:incident:0', 'urn:xmpp:incident:2', 'urn:xmpp:ping'];

/** Answers disco#info for one node, given who asks (full JID); undefined when that node is not theirs to see. */
export type NodeInfo = (from: string) => Element | undefined;

export interface Disco {
  addNode(node: string, info: NodeInfo): void;
}

export function answerDiscoInfo(xmpp: Client): Disco {
  const nodes = new Map<string, NodeInfo>();
  xmpp.iqCallee.get(DISCO_INFO_NS, 'query', (ctx: { stanza: Element; element: Element }) => {
    const node = ctx.element.attrs.node as string | undefined;
    if (node !== undefined) return nodes.get(node)?.(String(ctx.stanza.attrs.from ?? '')) ?? itemNotFound(`no such node: ${node.slice(0, 100)}`);
    return xml(
      'query',
      { xmlns: DISCO_INFO_NS },
      xml('identity', { category: 'client', type: 'bot', name: 'xmpp-incident-bot' }),
      ...FEATURES.map((v) => xml('feature', { var: v })),
    );
  });
  return { addNode: (node, info) => nodes.set(node, info) };
}
