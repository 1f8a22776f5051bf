/**
 * Block lists the bot follows (`rtbl.follow`): at every connection it subscribes to each node and fetches its items;
 * publish and retract notifications keep the set current. An incident whose source (bare JID or its domain) is
 * listed says so ("listed on rtbl.example/muc_bans_sha256 since …"), so the admin sees others have already decided.
 * "Since" is when this bot first saw the item (the lists carry no time); the sets live in memory and are fetched
 * again after a restart.
 */
import xml, { type Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { bareJid, domainOf } from '../protocol/validate.js';
import type { Client } from '../xmpp/connection.js';
import { PUBSUB_NS, rtblHash } from './rtbl.js';

const EVENT_NS = 'http://jabber.org/protocol/pubsub#event';

export interface Listing {
  list: string;
  since: string;
}

export class FollowedLists {
  /** list ("service/node") → item id → first seen. */
  private readonly lists = new Map<string, Map<string, string>>();

  constructor(private readonly follow: ReadonlyArray<{ service: string; node: string }>) {
    for (const f of follow) this.lists.set(key(f.service, f.node), new Map());
  }

  /** Applies a pubsub event message (publish or retract notifications) from a followed service; true if it was one. */
  applyEvent(stanza: Element, at = new Date().toISOString()): boolean {
    const from = String(stanza.attrs.from ?? '').toLowerCase();
    const items = stanza.getChild('event', EVENT_NS)?.getChild('items');
    if (!items) return false;
    const list = this.lists.get(key(from, String(items.attrs.node ?? '')));
    if (!list) return false;
    for (const el of items.getChildElements()) {
      const id = String(el.attrs.id ?? '').toLowerCase();
      if (!id) continue;
      if (el.name === 'item' && !list.has(id)) list.set(id, at);
      if (el.name === 'retract') list.delete(id);
    }
    return true;
  }

  /** Replaces a list's items with a fetched snapshot (keeping first-seen times of items still there). */
  replace(service: string, node: string, ids: readonly string[], at = new Date().toISOString()): void {
    const list = this.lists.get(key(service, node));
    if (!list) return;
    const fresh = new Set(ids.map((id) => id.toLowerCase()));
    for (const id of [...list.keys()]) if (!fresh.has(id)) list.delete(id);
    for (const id of fresh) if (!list.has(id)) list.set(id, at);
  }

  /** The followed lists naming the JID (by its bare JID or its domain). */
  listingsOf(jid: string): Listing[] {
    const hashes = [rtblHash(bareJid(jid).toLowerCase()), rtblHash(domainOf(jid).toLowerCase())];
    const out: Listing[] = [];
    for (const [list, items] of this.lists) {
      const since = hashes.map((h) => items.get(h)).find((s) => s !== undefined);
      if (since) out.push({ list, since });
    }
    return out;
  }

  /** Subscribes and fetches every followed list (each connection: subscriptions may not survive the server). */
  async refresh(xmpp: Client, log: Logger): Promise<void> {
    const self = xmpp.jid ? bareJid(xmpp.jid.toString()) : undefined;
    for (const f of this.follow) {
      const ps = (...children: Element[]) => xml('pubsub', { xmlns: PUBSUB_NS }, ...children);
      try {
        if (self) await xmpp.iqCaller.request(xml('iq', { type: 'set', to: f.service }, ps(xml('subscribe', { node: f.node, jid: self }))), 30_000);
        const reply = await xmpp.iqCaller.request(xml('iq', { type: 'get', to: f.service }, ps(xml('items', { node: f.node }))), 30_000);
        const ids = (reply.getChild('pubsub', PUBSUB_NS)?.getChild('items')?.getChildren('item') ?? []).map((i: Element) => String(i.attrs.id ?? ''));
        this.replace(f.service, f.node, ids.filter(Boolean));
        log.info({ list: key(f.service, f.node), items: ids.length }, 'followed block list fetched');
      } catch (err) {
        const e = err as { condition?: string; message?: string };
        log.warn({ list: key(f.service, f.node), err: e.condition ?? e.message }, 'followed block list not available');
      }
    }
  }
}

function key(service: string, node: string): string {
  return `${service.toLowerCase()}/${node}`;
}

/** One per configuration, for the announcement and `!show` (commands only see the services and their config). */
const registry = new WeakMap<object, FollowedLists>();

export function followedListsOf(config: object): FollowedLists | undefined {
  return registry.get(config);
}

/** Wires following to the connection (one line in bot.ts). */
export function followBlockLists(xmpp: Client, config: Config, log: Logger): FollowedLists | undefined {
  const follow = config.rtbl?.follow ?? [];
  if (follow.length === 0) return undefined;
  const lists = new FollowedLists(follow);
  registry.set(config, lists);
  xmpp.on('online', () => void lists.refresh(xmpp, log));
  xmpp.on('stanza', (stanza: Element) => {
    if (stanza.is('message') && stanza.attrs.type !== 'error') lists.applyEvent(stanza);
  });
  return lists;
}
