import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../../src/core/store.js';
import { readStoreContents } from '../../src/core/store-reader.js';
import { ADMIN_JID, LEGACY_PEER, NOW, PEER, ROOM, UUID1, UUID3, linesOf, makeWorld, type World } from './world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(() => w.close());

const incident = (n: number) => w.store.getByNumber(n)!;

describe('ack', () => {
  it('twice: the second time says already acknowledged, and only one revision is owed', async () => {
    expect((await w.run('!ack #1')).replies).toEqual(['#1 acknowledged — revision queued for 2 peers']);
    expect((await w.run('!ack #1')).replies).toEqual(['#1 is already acknowledged']);
    expect(w.calls.revise).toEqual([{ number: 1, purpose: 'acknowledged' }]);
    expect(incident(1).timeline.filter((t) => t.action === 'acknowledged')).toHaveLength(1);
  });

  it('with nobody to tell says so', async () => {
    await w.run('!solve #2 done');
    await w.run('!reopen #2');
    expect((await w.run('!ack #2')).replies).toEqual(['#2 acknowledged — no peer to tell']);
  });

  it('a resolved incident must be reopened first', async () => {
    await w.run('!solve #1 done');
    expect((await w.run('!ack #1')).replies).toEqual(['#1 is resolved; !reopen it first']);
    expect(incident(1).state).toBe('resolved');
  });

  it('is on disk once the reply is sent (revise commits)', async () => {
    await w.run('!ack #1 mine');
    const onDisk = (await readStoreContents(w.config.storage.path)).incidents.find((s) => s.number === 1)!;
    expect(onDisk.state).toBe('acked');
    expect(onDisk.timeline.at(-1)).toEqual({ at: NOW, who: ADMIN_JID, action: 'acknowledged', text: 'mine' });
  });
});

describe('solve, reopen, note', () => {
  it('solve resolves with the solution text, recorded by the admin', async () => {
    const { replies } = await w.run('!solve #1 blocked the abuser at the firewall');
    expect(replies).toEqual(['#1 resolved — revision queued for 2 peers']);
    expect(incident(1).state).toBe('resolved');
    expect(incident(1).incident.status).toBe('resolved');
    expect(incident(1).incident.solutions).toEqual([
      { texts: [{ lang: 'en', text: 'blocked the abuser at the firewall' }], sources: [], time: NOW, who: ADMIN_JID },
    ]);
    expect((await w.run('!solve #1 again')).replies).toEqual(['#1 is already resolved']);
    expect(w.calls.revise).toEqual([{ number: 1, purpose: 'resolved' }]);
  });

  it('reopen refuses an unresolved incident and reopens a resolved one with the note', async () => {
    expect((await w.run('!reopen #1')).replies).toEqual(['#1 is not resolved']);
    await w.run('!solve #1 done');
    expect((await w.run('!reopen #1 it is back')).replies).toEqual(['#1 reopened — revision queued for 2 peers']);
    expect(incident(1).state).toBe('open');
    expect(incident(1).timeline.at(-1)).toEqual({ at: NOW, who: ADMIN_JID, action: 'reopened', text: 'reopened: it is back' });
    expect(w.calls.revise.map((c) => c.purpose)).toEqual(['resolved', 'reopened']);
  });

  it('note keeps the text as typed and needs one', async () => {
    expect((await w.run('!note 1   two  spaces kept')).replies).toEqual(['note added to #1 — revision queued for 2 peers']);
    expect(incident(1).timeline.at(-1)).toEqual({ at: NOW, who: ADMIN_JID, action: 'note', text: 'two  spaces kept' });
    expect((await w.run('!note 1')).result).toBe('usage');
    expect(w.calls.revise).toEqual([{ number: 1, purpose: 'note' }]);
  });
});

describe('forward', () => {
  it('to a trusted peer calls forward with the configured JID', async () => {
    const { replies } = await w.run('!forward #1 Legacy.Example');
    expect(replies).toEqual(['#1 forwarded to legacy.example (legacy)']);
    expect(w.calls.forward).toEqual([{ number: 1, peer: LEGACY_PEER, by: ADMIN_JID }]);
  });

  it('matches the bare part of a full-JID peer case-insensitively, the resource exactly', async () => {
    expect((await w.run('!forward #2 INCIDENTS@Peer.Example/bot')).replies).toEqual([`#2 forwarded to ${PEER} (iodef)`]);
    const wrongResource = await w.run('!forward #2 incidents@peer.example/BOT');
    expect(wrongResource.replies[0]).toMatch(/^unknown peer incidents@peer.example\/BOT; configured peers: /);
    expect(w.calls.forward).toEqual([{ number: 2, peer: PEER, by: ADMIN_JID }]);
  });

  it('to an unknown peer is refused, naming the configured ones', async () => {
    const { replies } = await w.run('!forward #1 nobody.example');
    expect(replies).toEqual([`unknown peer nobody.example; configured peers: ${PEER}, legacy.example, shady.example`]);
    expect(w.calls.forward).toEqual([]);
  });

  it('to an untrusted peer is refused', async () => {
    expect((await w.run('!forward #1 shady.example')).replies).toEqual(['shady.example is not a trusted peer: refused']);
    expect(w.calls.forward).toEqual([]);
  });

  it('of an incident from an untrusted sender is refused', async () => {
    expect((await w.run('!forward #3 legacy.example')).replies).toEqual(['#3 came from an untrusted sender and is never forwarded']);
    expect(w.calls.forward).toEqual([]);
  });
});

describe('inquire and request', () => {
  it('inquire asks a trusted peer, to be answered where it was asked', async () => {
    const room = await w.run(`!inquire ${LEGACY_PEER} ${UUID1}`);
    expect(room.replies).toEqual([`Inquiry about ${UUID1} sent to legacy.example; the answer will be announced here`]);
    await w.run(`inquire ${PEER} 4711 peer.example`, 'admin', 'dm');
    expect(w.calls.inquire).toEqual([
      { peer: LEGACY_PEER, id: UUID1, site: undefined, notify: ROOM },
      { peer: PEER, id: '4711', site: 'peer.example', notify: ADMIN_JID },
    ]);
  });

  it('inquire refuses an untrusted peer and needs an id', async () => {
    expect((await w.run('!inquire shady.example 1')).replies).toEqual(['shady.example is not a trusted peer: refused']);
    expect((await w.run('!inquire legacy.example')).result).toBe('usage');
    expect(w.calls.inquire).toEqual([]);
  });

  it('request sends a known action to a trusted peer', async () => {
    const { replies } = await w.run(`!request #1 ${PEER} Block-Host`);
    expect(replies).toEqual([`Request (block-host) about #1 sent to ${PEER}; the answer will be announced here`]);
    expect(w.calls.request).toEqual([{ number: 1, peer: PEER, action: 'block-host', by: ADMIN_JID, notify: ROOM }]);
  });

  it('request with an unknown action answers with the usage line listing the actions', async () => {
    const { result, replies } = await w.run(`!request #1 ${PEER} nuke`);
    expect(result).toBe('usage');
    expect(replies[0]).toContain("unknown action 'nuke'; one of nothing, contact-source-site,");
    expect(replies[0]).toContain('Usage: !request <ref> <peer> <action>');
    expect(w.calls.request).toEqual([]);
  });

  it('request about an incident from an untrusted sender is refused', async () => {
    expect((await w.run(`!request #3 ${PEER} investigate`)).replies).toEqual(['#3 came from an untrusted sender and is never sent to peers']);
    expect(w.calls.request).toEqual([]);
  });
});

describe('list', () => {
  const AGE = String.raw`\d+ (?:min|h|d) ago`;

  it('by default lists open and acknowledged incidents, newest first, one line each with state, severity, age and the untrusted flag', async () => {
    await w.run('!solve #1 done');
    const lines = linesOf((await w.run('!list', 'user')).replies);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^#3 \\*open\\* sev 3 abuse: spam — totally legit report · ${AGE} \\(from shady\\.example\\) ⚠ UNTRUSTED$`));
    expect(lines[1]).toMatch(new RegExp(`^#2 \\*acked\\* sev 3 abuse: spam — registration spam from a botnet · ${AGE} \\(from peer\\.example\\)$`));
  });

  it('shows the first source, and the owner once there is one', async () => {
    await w.run('!take #1');
    const last = linesOf((await w.run('!list all', 'user')).replies).at(-1)!;
    expect(last).toMatch(new RegExp(`^#1 \\*open\\* sev 2 muc: presence, long-messages — spammer@evil\\.example · owner ${ADMIN_JID} · ${AGE} \\(from peer\\.example\\)$`));
  });

  it.each([
    ['acked', [2]],
    ['resolved', [1]],
    ['all', [3, 2, 1]],
    ['ALL', [3, 2, 1]],
    ['all sev<=2', [1]],
    ['all sev>=3', [3, 2]],
    ['all from:shady.example', [3]],
    [`all from:${PEER}`, [2, 1]],
    ['all unowned', [3, 2]],
    ['all mine', [1]],
  ])('list %s', async (filter, numbers) => {
    await w.run('!solve #1 done');
    await w.run('!take #1');
    const lines = linesOf((await w.run(`!list ${filter}`, 'admin')).replies);
    expect(lines.map((l) => Number(/^#(\d+) /.exec(l)![1]))).toEqual(numbers);
  });

  it('an unknown filter answers with the usage line', async () => {
    const { result, replies } = await w.run('!list closed', 'user');
    expect(result).toBe('usage');
    expect(replies).toEqual(["unknown filter 'closed'. Usage: !list [open|acked|resolved|all] [sev<=N] [from:PEER] [mine|unowned] [page N]"]);
  });

  it('says so when nothing matches', async () => {
    const empty = await makeWorld({ seed: false });
    try {
      expect((await empty.run('!list', 'user')).replies).toEqual(['No incidents (open).']);
      expect((await empty.run('!list resolved sev<=2', 'user')).replies).toEqual(['No incidents (resolved sev<=2).']);
    } finally {
      empty.close();
    }
  });

  it('pages: 15 lines in a room with the next page named, 50 in a direct message', async () => {
    const big = await makeWorld({ seed: false });
    try {
      for (let i = 0; i < 60; i++) big.add();
      const lines = linesOf((await big.run('!list', 'user')).replies);
      expect(lines).toHaveLength(16);
      expect(lines[0]).toMatch(/^#60 \*open\*/);
      expect(lines[14]).toMatch(/^#46 \*open\*/);
      expect(lines[15]).toBe('… 45 more: !list page 2');
      const page2 = linesOf((await big.run('!list page 2', 'user')).replies);
      expect(page2[0]).toMatch(/^#45 /);
      expect(page2.at(-1)).toBe('… 30 more: !list page 3');
      const dm = linesOf((await big.run('list', 'admin', 'dm')).replies);
      expect(dm).toHaveLength(51);
      expect(dm.at(-1)).toBe('… 10 more: list page 2');
      expect((await big.run('!list page 9', 'user')).replies).toEqual(['No page 9 (open).']);
    } finally {
      big.close();
    }
  });
});

describe('show', () => {
  it('shows everything, English text first, and the timeline', async () => {
    await w.run('!ack #1 on it');
    await w.run('!relate #1 #3');
    const text = (await w.run('!show #1', 'user')).replies[0]!;
    const lines = text.split('\n');
    expect(lines[0]).toBe('#1 *acked* — severity 2 (high), muc: presence, long-messages');
    expect(text).toContain(`Id ${UUID1} issued by peer.example`);
    expect(text).toContain(`Reported by ${PEER} (trusted sender, iodef)`);
    expect(text).toContain('Reporting admins: carol@peer.example');
    expect(text).toContain('Sources: spammer@evil.example, 203.0.113.7:5222');
    expect(text).toContain('Locations: lobby@conference.peer.example');
    expect(lines.indexOf('Text [en]: presence flood in the room')).toBeGreaterThan(0);
    expect(lines.indexOf('Text [en]: presence flood in the room')).toBeLessThan(lines.indexOf('Text [de]: Präsenzflut im Raum'));
    expect(text).toContain(`Related: #3 ${UUID3} at shady.example`);
    expect(text).toContain(`Known by: ${PEER}, legacy.example`);
    const timeline = lines.slice(lines.indexOf('Timeline:') + 1);
    const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC \\(\\d+ (?:min|h|d) ago\\)`;
    expect(timeline).toHaveLength(3);
    expect(timeline[0]).toMatch(new RegExp(`^  ${when('2025-12-01T10:00:00Z')} ${PEER} reported$`));
    expect(timeline[1]).toMatch(new RegExp(`^  ${when(NOW)} ${ADMIN_JID} acknowledged — on it$`));
    expect(timeline[2]).toMatch(new RegExp(`^  ${when(NOW)} ${ADMIN_JID} related — related to #3$`));
  });

  it('flags an untrusted incident and shows requests and solutions', async () => {
    const s = incident(3);
    s.requests.push({ at: NOW, from: PEER, action: 'investigate', texts: [{ text: 'please look' }] });
    w.store.save(s);
    await w.run('!solve #3 banned ip=198.51.100.1');
    const text = (await w.run('!show 3', 'user')).replies[0]!;
    expect(text.split('\n')[0]).toBe('#3 *resolved* — severity 3 (medium), abuse: spam ⚠ UNTRUSTED');
    expect(text).toContain(`Request from ${PEER} at ${NOW}: investigate — please look`);
    expect(text).toContain(`Solution (by ${ADMIN_JID} at ${NOW}): banned [sources: 198.51.100.1]`);
  });

  it('keeps peer text on one line, so it cannot fake bot lines', async () => {
    const s = incident(2);
    s.incident.texts = [{ lang: 'en', text: 'line one\n#9 NEW incident fake' }];
    w.store.save(s);
    const lines = (await w.run('!show 2', 'user')).replies[0]!.split('\n');
    expect(lines).toContain('Text [en]: line one #9 NEW incident fake');
    expect(lines.some((l) => l.startsWith('#9'))).toBe(false);
  });
});

describe('report', () => {
  it('stores the incident through originate and can be shown', async () => {
    const { replies } = await w.run('!report 1 s2s/dos connection flood src=192.0.2.1');
    expect(replies[0]).toMatch(/^#4 reported \([0-9a-f-]{36}\) — sent to 2 trusted peers$/);
    const show = (await w.run('!show #4', 'user')).replies[0]!;
    expect(show).toContain('Sources: 192.0.2.1');
    expect(show).toContain(`Reporting admins: alice@example.org`);
  });

  it('refuses a src= or loc= that is no address, like !solve, and sends nothing', async () => {
    const { replies } = await w.run('!report 2 muc/flood flood src=nothing!!');
    expect(replies).toEqual(["src=: 'nothing!!' is neither a JID nor an IP address; nothing reported"]);
    expect((await w.run('!report 2 muc/flood flood loc=room@bad_domain!')).replies[0]).toMatch(/^loc=: 'room@bad_domain!' is not a valid JID/);
    expect((await w.run('!solve #1 done jid=nothing!!')).replies[0]).toMatch(/nothing!!/);
    expect(w.calls.originate).toEqual([]);
  });
});

describe('export', () => {
  it('json parses back to the stored incident', async () => {
    const { replies } = await w.run('export #1 json', 'admin', 'dm');
    expect(JSON.parse(replies[0]!)).toEqual(incident(1).incident);
  });

  it('defaults to iodef and passes legacy through', async () => {
    expect((await w.run('export c0ffee00', 'admin', 'dm')).replies).toEqual([`<iodef id="${UUID3}"/>`]);
    await w.run('export 2 LEGACY', 'admin', 'dm');
    expect(w.calls.export).toEqual([
      { number: 3, format: 'iodef' },
      { number: 2, format: 'legacy' },
    ]);
  });

  it('an unknown format answers with the usage line', async () => {
    const { result, replies } = await w.run('export #1 pdf', 'admin', 'dm');
    expect(result).toBe('usage');
    expect(replies).toEqual(["unknown format 'pdf'. Usage: export <ref> [iodef|legacy|json]"]);
    expect(w.calls.export).toEqual([]);
  });
});

describe('outbox', () => {
  it('says when nothing is owed', async () => {
    expect((await w.run('!outbox')).replies).toEqual(['Nothing owed to peers.']);
  });

  it('lists each entry with attempts, next try and last error', async () => {
    const entry = (over: Partial<OutboxEntry>): OutboxEntry => ({
      id: 'x',
      to: PEER,
      stanza: 'iq',
      payload: '<report/>',
      purpose: 'revision (acknowledged)',
      createdAt: NOW,
      attempts: 0,
      nextAttemptAt: NOW,
      ...over,
    });
    w.outbox.push(entry({ number: 1, attempts: 3, lastError: 'remote-server-timeout' }), entry({ to: LEGACY_PEER, purpose: 'inquiry about 4711', nextAttemptAt: '2026-01-02T04:00:00Z' }));
    const { replies } = await w.run('outbox', 'admin', 'dm');
    expect(replies).toEqual([
      '2 stanzas owed to peers:\n' +
        `#1 revision (acknowledged) → ${PEER} (attempts 3, next try ${NOW}, last error remote-server-timeout)\n` +
        'inquiry about 4711 → legacy.example (attempts 0, next try 2026-01-02T04:00:00Z)',
    ]);
  });
});

describe('search', () => {
  it.each([
    ['203.0.113.7', [1]],
    ['203.0.113.7:5222', [1]],
    ['EVIL.example', [1]],
    ['shady', [3]],
    ['shady.example', [3]],
    ['carol@peer.example', [1]],
    ['CAROL@peer.example/laptop', [1]],
    ['botnet', [2]],
    ['long-messages', [1]],
    ['c0ffee00', [3]],
    ['spam', [3, 2]],
    ['spammer', [1]],
    ['spam botnet', [2]],
    ['presence flood', [1]],
  ])('search %s', async (query, numbers) => {
    const lines = linesOf((await w.run(`search ${query}`, 'admin', 'dm')).replies);
    expect(lines.map((l) => Number(/^#(\d+) /.exec(l)![1]))).toEqual(numbers);
  });

  it('finds nothing politely, and needs a query', async () => {
    expect((await w.run('search nothing-like-this', 'admin', 'dm')).replies).toEqual(["No incident matches 'nothing-like-this'."]);
    expect((await w.run('search', 'admin', 'dm')).result).toBe('usage');
  });

  it('lists at most 20 hits', async () => {
    for (let i = 0; i < 25; i++) w.add();
    const lines = linesOf((await w.run('search spam', 'admin', 'dm')).replies);
    expect(lines).toHaveLength(21);
    expect(lines[0]).toMatch(/^#28 /);
    expect(lines[20]).toBe('… and more matches; narrow the search');
  });
});

describe('stats', () => {
  it('counts by state, trust and reporter, with the outbox and counters', async () => {
    w.add((e) => {
      e.from = 'bot@other.example/x';
      e.state = 'resolved';
    });
    const { replies } = await w.run('stats', 'admin', 'dm');
    expect(replies[0]!.split('\n')).toEqual([
      'Incidents: 4 (open 2, acked 1, resolved 1)',
      'From trusted senders: 3, untrusted: 1',
      'Top reporters: peer.example 2, other.example 1, shady.example 1',
      'Outbox: 0 owed to peers',
      'Counters: received 7, announced 5',
    ]);
  });
});

describe('the store file', () => {
  it('is untouched by read-only commands', async () => {
    await w.store.flush();
    const files = [w.config.storage.path, w.config.storage.path.replace(/\.json$/, '.mdb')];
    const before = files.map((f) => readFileSync(f).toString('base64'));
    for (const line of ['!list all', '!show #1', '!help']) await w.run(line, 'user');
    for (const line of ['search spam', 'stats', 'export #1 json', 'outbox']) await w.run(line, 'admin', 'dm');
    expect(files.map((f) => readFileSync(f).toString('base64'))).toEqual(before);
    expect(w.changes()).toBe(0);
  });
});
