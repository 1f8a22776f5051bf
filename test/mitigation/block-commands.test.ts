import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncidentStore } from '../../src/core/store.js';
import { rtblHash, normaliseTarget, publishPayload, retractPayload } from '../../src/mitigation/rtbl.js';
import { makeWorld, type World } from '../commands/world.js';

const RTBL = { service: 'pubsub.example.org', node: 'muc_bans_sha256', stormWindowSeconds: 600, follow: [] };

describe('hashing as mod_muc_rtbl does', () => {
  it('is the lowercase hex SHA-256 of the bare JID or domain', () => {
    // FIPS 180-2 test vector.
    expect(rtblHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(normaliseTarget('Spammer@Evil.Example')).toBe('spammer@evil.example');
    expect(normaliseTarget('spammer@evil.example/phone')).toEqual({ error: expect.stringMatching(/not a full JID/) });
  });

  it('publishes one item per entity, and retracts with notify so subscribers hear of it', () => {
    const stored = { number: 7, incident: { id: 'abc' } } as never;
    const pub = publishPayload(RTBL, 'spammer@evil.example', stored, 'spam');
    const item = pub.getChild('publish')!.getChild('item')!;
    expect(pub.getChild('publish')!.attrs.node).toBe('muc_bans_sha256');
    expect(item.attrs.id).toBe(rtblHash('spammer@evil.example'));
    expect(item.getChild('report', 'urn:xmpp:reporting:1')!.attrs.reason).toBe('urn:xmpp:reporting:spam');
    const retract = retractPayload(RTBL, 'spammer@evil.example').getChild('retract')!;
    expect(retract.attrs.notify).toBe('true');
    expect(retract.getChild('item')!.attrs.id).toBe(rtblHash('spammer@evil.example'));
  });
});

describe('!block, !unblock, !blocks', () => {
  let w: World;
  let n: number;
  beforeEach(async () => {
    w = await makeWorld();
    (w.config as { rtbl?: typeof RTBL }).rtbl = RTBL;
    n = w.add((s) => {
      s.incident.sources = [{ addresses: [{ kind: 'jid', value: 'bot77@evil.example/r' }], counters: [], roles: [] }];
    }).number;
  });
  afterEach(() => w.close());
  const owed = () => w.store.outbox.filter((e) => e.purpose.startsWith('rtbl '));

  it('lists first and publishes only on confirm', async () => {
    const plan = await w.run(`!block #${n}`);
    expect(plan.replies[0]).toBe(`#${n} would block: bot77@evil.example. Type !block #${n} confirm to publish.`);
    expect(owed()).toHaveLength(0);
    const done = await w.run(`!block #${n} confirm`);
    expect(done.replies[0]).toContain('published on pubsub.example.org/muc_bans_sha256');
    expect(owed().map((e) => [e.to, e.iqType, e.purpose])).toEqual([['pubsub.example.org', 'set', 'rtbl publish bot77@evil.example']]);
    expect(owed()[0]!.payload).toContain(`id="${rtblHash('bot77@evil.example')}"`);
    expect(w.store.getByNumber(n)!.incident.history.at(-1)!.action).toBe('block-host');
    expect(w.calls.revise).toEqual([{ number: n, purpose: 'blocked' }]);
    // A second confirm has nothing to apply.
    expect((await w.run(`!block #${n} confirm`)).replies[0]).toMatch(/Nothing to confirm/);
  });

  it('warns that a domain blocks a whole server', async () => {
    expect((await w.run(`!block #${n} evil.example`)).replies[0]).toMatch(/WARNING: evil.example blocks every account/);
  });

  it('refuses admins, their servers and its own server', async () => {
    expect((await w.run(`!block #${n} alice@example.org`)).replies[0]).toMatch(/refused: alice@example.org is an admin/);
    expect((await w.run(`!block #${n} example.org`)).replies[0]).toMatch(/refused/);
    expect((await w.run(`!block #${n} confirm`)).replies[0]).toMatch(/Nothing to confirm/);
  });

  it('owed publications survive a restart (the outbox is in the store)', async () => {
    await w.run(`!block #${n}`);
    await w.run(`!block #${n} confirm`);
    await w.store.close();
    const reopened = await IncidentStore.open(w.config.storage.path);
    try {
      expect(reopened.outbox.filter((e) => e.purpose.startsWith('rtbl ')).map((e) => e.purpose)).toEqual(['rtbl publish bot77@evil.example']);
    } finally {
      await reopened.close();
      w.store = await IncidentStore.open(w.config.storage.path);
    }
  });

  it('!blocks shows what is published and pending; !unblock by JID retracts it', async () => {
    await w.run(`!block #${n}`);
    await w.run(`!block #${n} confirm`);
    const list = (await w.run('!blocks')).replies[0]!;
    expect(list).toContain('1 blocked, 1 pending');
    expect(list).toContain(`bot77@evil.example — #${n} — by alice@example.org/laptop`);
    expect((await w.run('!unblock Bot77@evil.example')).replies[0]).toContain('retracted');
    expect(owed().map((e) => e.purpose)).toEqual(['rtbl publish bot77@evil.example', 'rtbl retract bot77@evil.example']);
    expect((await w.run('!blocks')).replies[0]).toContain('0 blocked, 2 pending');
    expect((await w.run('!unblock bot77@evil.example')).replies[0]).toMatch(/not on the block list/);
  });

  it('says so when no block list is configured, and is for admins', async () => {
    delete (w.config as { rtbl?: unknown }).rtbl;
    expect((await w.run(`!block #${n}`)).replies[0]).toMatch(/No block list is configured/);
    expect((await w.run(`!blocks`, 'user')).replies.join(' ')).not.toContain('Block list');
  });
});

describe('!show', () => {
  it('shows the abuse tally, its evidence and the block-list entries', async () => {
    const w = await makeWorld();
    try {
      (w.config as { rtbl?: typeof RTBL }).rtbl = RTBL;
      const n = w.add((s) => {
        s.incident.sources = [{ addresses: [{ kind: 'jid', value: 'bot77@evil.example' }], counters: [], roles: [] }];
        s.abuse = { jid: 'bot77@evil.example', reason: 'spam', count: 3, reporters: ['a.example', 'b.example'], evidence: [{ reporter: 'a.example', at: 'x', sender: 'bot77@evil.example/r', text: 'buy' }] };
      }).number;
      await w.run(`!block #${n}`);
      await w.run(`!block #${n} confirm`);
      const shown = (await w.run(`!show #${n}`)).replies.join('\n');
      expect(shown).toContain('Abuse reports: 3 about bot77@evil.example (spam) from a.example, b.example');
      expect(shown).toContain('evidence (via a.example) bot77@evil.example/r: buy');
      expect(shown).toContain('Block list: bot77@evil.example — blocked (published by alice@example.org/laptop');
    } finally {
      await w.close();
    }
  });
});

describe('config', () => {
  it('names the key of a bad rtbl entry', async () => {
    const { parseConfig, ConfigError } = await import('../../src/core/config.js');
    const base = { xmpp: { service: 'xmpp://127.0.0.1:5222', domain: 'example.org', username: 'bot', password: 'pw' }, rooms: { default: 'ops@conference.example.org' }, storage: { path: '/tmp/x.json' } };
    expect(() => parseConfig({ ...base, rtbl: { service: 'a@@b' } })).toThrow(ConfigError);
    expect(() => parseConfig({ ...base, rtbl: { service: 'a@@b' } })).toThrow(/rtbl\.service/);
    expect(parseConfig({ ...base, rtbl: { service: 'pubsub.example.org' } }).rtbl).toEqual({ service: 'pubsub.example.org', node: 'muc_bans_sha256', stormWindowSeconds: 600, follow: [] });
  });
});

describe('!block and the operators rooms\' member lists', () => {
  it('refuses a member or a member\'s server, and names a list it could not read', async () => {
    const { registerMemberLookup } = await import('../../src/mitigation/room-members.js');
    const w = await makeWorld();
    try {
      (w.config as { rtbl?: typeof RTBL }).rtbl = RTBL;
      const n = w.add((s) => {
        s.incident.sources = [{ addresses: [{ kind: 'jid', value: 'bot77@evil.example' }], counters: [], roles: [] }];
      }).number;
      registerMemberLookup(w.config, async () => ({
        members: [{ jid: 'carol@partner.example', room: 'ops@conference.example.org' }],
        unreadable: [{ room: 'other@conference.example.org', why: 'member list: forbidden' }],
      }));
      expect((await w.run(`!block #${n} carol@partner.example`)).replies[0]).toBe(
        'refused: carol@partner.example is on the member list of ops@conference.example.org; nothing blocked',
      );
      expect((await w.run(`!block #${n} partner.example`)).replies[0]).toMatch(/^refused: partner.example is the server of carol@partner.example/);
      expect((await w.run(`!block #${n} confirm`)).replies[0]).toMatch(/Nothing to confirm/);
      expect((await w.run(`!block #${n}`)).replies[0]).toContain('(member lists not checked: other@conference.example.org member list: forbidden)');
    } finally {
      await w.close();
    }
  });
});
