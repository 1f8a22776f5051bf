import xml from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { rtblHash } from '../../src/mitigation/rtbl.js';
import { FollowedLists } from '../../src/mitigation/rtbl-follow.js';

const EVENT_NS = 'http://jabber.org/protocol/pubsub#event';
const event = (from: string, node: string, ...children: ReturnType<typeof xml>[]) =>
  xml('message', { from }, xml('event', { xmlns: EVENT_NS }, xml('items', { node }, ...children)));

describe('followed block lists', () => {
  it('knows a JID listed by bare JID or by its domain, with when it was first seen', () => {
    const lists = new FollowedLists([{ service: 'rtbl.example', node: 'muc_bans_sha256' }]);
    lists.replace('rtbl.example', 'muc_bans_sha256', [rtblHash('evil.example')], '2026-12-01T00:00:00Z');
    expect(lists.listingsOf('Bot77@Evil.example/res')).toEqual([{ list: 'rtbl.example/muc_bans_sha256', since: '2026-12-01T00:00:00Z' }]);
    expect(lists.listingsOf('alice@good.example')).toEqual([]);
  });

  it('follows publish and retract notifications, only from the followed service and node', () => {
    const lists = new FollowedLists([{ service: 'rtbl.example', node: 'muc_bans_sha256' }]);
    const id = rtblHash('spammer@x.example');
    expect(lists.applyEvent(event('mallory.example', 'muc_bans_sha256', xml('item', { id })))).toBe(false);
    expect(lists.listingsOf('spammer@x.example')).toEqual([]);
    expect(lists.applyEvent(event('rtbl.example', 'muc_bans_sha256', xml('item', { id })), '2026-12-02T00:00:00Z')).toBe(true);
    expect(lists.listingsOf('spammer@x.example')).toEqual([{ list: 'rtbl.example/muc_bans_sha256', since: '2026-12-02T00:00:00Z' }]);
    lists.applyEvent(event('rtbl.example', 'muc_bans_sha256', xml('retract', { id })));
    expect(lists.listingsOf('spammer@x.example')).toEqual([]);
  });

  it('a fetched snapshot drops what is gone and keeps first-seen times', () => {
    const lists = new FollowedLists([{ service: 'rtbl.example', node: 'n' }]);
    lists.replace('rtbl.example', 'n', [rtblHash('a@x.example'), rtblHash('b@x.example')], 'T1');
    lists.replace('rtbl.example', 'n', [rtblHash('b@x.example')], 'T2');
    expect(lists.listingsOf('a@x.example')).toEqual([]);
    expect(lists.listingsOf('b@x.example')).toEqual([{ list: 'rtbl.example/n', since: 'T1' }]);
  });
});
