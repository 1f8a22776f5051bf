import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_JID, NOW, ROOM, UUID1, UUID2, UUID3, makeWorld, type World } from './world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(() => w.close());

const incident = (n: number) => w.store.getByNumber(n)!;

describe('incident references', () => {
  it.each([
    ['#3', '#3 '],
    ['3', '#3 '],
    [UUID3, '#3 '],
    [UUID3.toUpperCase(), '#3 '],
    ['c0ffee00', '#3 '],
    ['ba51a035-7710', '#1 '],
  ])('!show %s finds the right incident', async (ref, start) => {
    const { result, replies } = await w.run(`!show ${ref}`, 'user');
    expect(result).toBe('ran');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.startsWith(start)).toBe(true);
  });

  it('an ambiguous prefix names the candidates', async () => {
    const { replies } = await w.run('!show ba51a035', 'user');
    expect(replies).toEqual(['ba51a035 is ambiguous: #2, #1']);
  });

  it('an unknown number or id says so', async () => {
    expect((await w.run('!show #99', 'user')).replies).toEqual(['no incident #99']);
    expect((await w.run('!show deadbeef', 'user')).replies).toEqual(['no incident with id deadbeef']);
  });

  it('something that is not a reference says so', async () => {
    const { replies } = await w.run('!show hello', 'user');
    expect(replies[0]).toContain("'hello' is not a reference");
  });

  it('show without a reference answers with the usage line', async () => {
    const { result, replies } = await w.run('!show', 'user');
    expect(result).toBe('usage');
    expect(replies[0]).toContain('Usage: !show <ref>');
  });
});

describe('ack <ref>… [note]', () => {
  it('acknowledges every leading reference with the rest as the note', async () => {
    const { replies } = await w.run('!ack #1 #3 looking into it now');
    expect(replies).toEqual(['#1 acknowledged — revision queued for 2 peers\n#3 acknowledged — revision queued for 1 peer']);
    for (const n of [1, 3]) {
      expect(incident(n).state).toBe('acked');
      expect(incident(n).timeline.at(-1)).toEqual({ at: NOW, who: ADMIN_JID, action: 'acknowledged', text: 'looking into it now' });
    }
    expect(w.calls.revise).toEqual([
      { number: 1, purpose: 'acknowledged' },
      { number: 3, purpose: 'acknowledged' },
    ]);
  });

  it('takes a bare number after the first reference as the start of the note', async () => {
    const { replies } = await w.run('!ack #1 2 servers down');
    expect(replies).toEqual(['#1 acknowledged — revision queued for 2 peers']);
    expect(incident(1).timeline.at(-1)?.text).toBe('2 servers down');
    expect(w.calls.revise).toEqual([{ number: 1, purpose: 'acknowledged' }]);
  });

  it('without a note records none', async () => {
    await w.run('!ack 1');
    expect(incident(1).timeline.at(-1)).toEqual({ at: NOW, who: ADMIN_JID, action: 'acknowledged' });
  });

  it('an unknown reference among several is reported and the others still acknowledged', async () => {
    const { replies } = await w.run('!ack #1 #99 c0ffee00');
    expect(replies[0]!.split('\n')).toEqual([
      '#1 acknowledged — revision queued for 2 peers',
      'no incident #99',
      '#3 acknowledged — revision queued for 1 peer',
    ]);
    expect(w.calls.revise.map((c) => c.number)).toEqual([1, 3]);
  });

  it('without any reference answers with the usage line', async () => {
    const { result, replies } = await w.run('!ack looking into it');
    expect(result).toBe('usage');
    expect(replies).toEqual(["'looking' is not an incident reference. Usage: !ack <ref>… [note]"]);
    expect(w.calls.revise).toEqual([]);
  });
});

describe('solve <ref> <text…> [ip=…]… [jid=…]…', () => {
  it('takes ip= and jid= options anywhere and the other words as the text', async () => {
    const { replies } = await w.run('!solve #1 blocked ip=203.0.113.7:5222 the abuser jid=spammer@evil.example ip=2001:db8::1');
    expect(replies).toEqual(['#1 resolved — revision queued for 2 peers']);
    const solution = incident(1).incident.solutions.at(-1)!;
    expect(solution.texts).toEqual([{ lang: 'en', text: 'blocked the abuser' }]);
    expect(solution.sources.map((s) => s.addresses)).toEqual([
      [{ kind: 'ip', value: '203.0.113.7', version: 4, port: 5222 }],
      [{ kind: 'jid', value: 'spammer@evil.example' }],
      [{ kind: 'ip', value: '2001:db8::1', version: 6 }],
    ]);
    expect(w.calls.revise).toEqual([{ number: 1, purpose: 'resolved' }]);
  });

  it.each([
    ['ip=999.1.1.1', 'is not an IPv4 or IPv6 address'],
    ['ip=203.0.113.7:70000', 'has an invalid port'],
    ['jid=a@@b', 'is not a valid JID'],
  ])('a bad option %s is reported and nothing changes', async (option, message) => {
    const { result, replies } = await w.run(`!solve #1 fixed it ${option}`);
    expect(result).toBe('ran');
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain(message);
    expect(incident(1).state).toBe('open');
    expect(incident(1).incident.solutions).toEqual([]);
    expect(w.calls.revise).toEqual([]);
  });

  it('without a text answers with the usage line', async () => {
    const { result, replies } = await w.run('!solve #1 ip=203.0.113.7');
    expect(result).toBe('usage');
    expect(replies[0]).toContain('Usage: !solve <ref> <text…>');
    expect(incident(1).state).toBe('open');
  });
});

describe('report <severity> <category>[/<type>…] <text…> [src=]… [loc=]…', () => {
  it('builds the incident from the arguments and originates it', async () => {
    const { replies } = await w.run(
      `!report 2 muc/presence/long-messages presence flood src=203.0.113.9 in ${ROOM} src=bad@evil.example loc=${ROOM} loc=lobby@conference.example.org`,
    );
    expect(w.calls.originate).toHaveLength(1);
    const { incident: sent, by } = w.calls.originate[0]!;
    expect(by).toBe(ADMIN_JID);
    expect(sent.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect({ ...sent, id: 'x' }).toEqual({
      id: 'x',
      site: 'example.org',
      status: 'new',
      severity: 2,
      category: 'muc',
      types: ['presence', 'long-messages'],
      texts: [{ lang: 'en', text: `presence flood in ${ROOM}` }],
      sources: [
        { addresses: [{ kind: 'ip', value: '203.0.113.9', version: 4 }], counters: [], roles: [] },
        { addresses: [{ kind: 'jid', value: 'bad@evil.example' }], counters: [], roles: [] },
      ],
      targets: [
        {
          addresses: [
            { kind: 'jid', value: ROOM },
            { kind: 'jid', value: 'lobby@conference.example.org' },
          ],
          counters: [],
          roles: [],
        },
      ],
      admins: ['alice@example.org'],
      room: ROOM,
      times: { begin: NOW, report: NOW },
      related: [],
      solutions: [],
      history: [],
    });
    expect(replies).toEqual([`#4 reported (${sent.id}) — sent to 2 trusted peers`]);
    expect(w.store.getByNumber(4)?.incident).toEqual(sent);
  });

  it('a category alone has no types, and no src=/loc= means no sources or targets', async () => {
    await w.run('!report 4 abuse spam wave');
    const sent = w.calls.originate[0]!.incident;
    expect(sent.category).toBe('abuse');
    expect(sent.types).toEqual([]);
    expect(sent.sources).toEqual([]);
    expect(sent.targets).toEqual([]);
    expect(sent.severity).toBe(4);
  });

  it.each([
    ['!report 2 muc//flood text', "'muc//flood' is not <category>[/<type>…]"],
    ['!report 2', 'give a severity, a category and a text'],
    ['!report 2 muc', 'missing the text'],
    ['!report 2 muc src=1.2.3.4', 'missing the text'],
    ['!report 9 muc text', "severity '9' is not a number from 1 to 5"],
  ])('%s answers with the usage line', async (text, why) => {
    const { result, replies } = await w.run(text);
    expect(result).toBe('usage');
    expect(replies[0]).toContain(why);
    expect(replies[0]).toContain('Usage: !report <severity> <category>[/<type>…] <text…>');
    expect(w.calls.originate).toEqual([]);
  });

  it('a bad src= or loc= is reported and nothing is originated', async () => {
    const src = await w.run('!report 2 muc flood src=foo@');
    expect(src.replies[0]).toContain('is neither a JID nor an IP address');
    const loc = await w.run('!report 2 muc flood loc=1.2.3.4:99999@x');
    expect(loc.replies[0]).toContain('is not a valid JID');
    expect(w.calls.originate).toEqual([]);
    expect(w.store.size).toBe(3);
  });
});

describe('severity <ref> <1-5>', () => {
  it.each(['0', '6', 'x', '2.5'])('severity %s answers with the usage line and changes nothing', async (value) => {
    const { result, replies } = await w.run(`!severity #1 ${value}`);
    expect(result).toBe('usage');
    expect(replies).toEqual([`severity '${value}' is not a number from 1 to 5. Usage: !severity <ref> <1-5>`]);
    expect(incident(1).incident.severity).toBe(2);
    expect(w.calls.revise).toEqual([]);
  });

  it('a missing value answers with the usage line', async () => {
    expect((await w.run('!severity #1')).result).toBe('usage');
  });

  it('sets the severity, and refuses the same one again', async () => {
    expect((await w.run('!severity #1 4')).replies).toEqual(['#1 now has severity 4 — revision queued for 2 peers']);
    expect(incident(1).incident.severity).toBe(4);
    expect((await w.run('!severity 1 4')).replies).toEqual(['#1 already has severity 4']);
    expect(w.calls.revise).toEqual([{ number: 1, purpose: 'severity' }]);
  });
});

describe('relate <ref> <ref|uuid>', () => {
  it('relates to a known incident by its id and site, labelled #M', async () => {
    const { replies } = await w.run('!relate #2 c0ffee00');
    expect(replies).toEqual(['#2 related to #3 — no peer to tell']);
    expect(incident(2).incident.related).toEqual([{ id: UUID3, site: 'shady.example' }]);
  });

  it('relates to an unknown UUID without a site', async () => {
    const other = '11111111-2222-4333-8444-555555555555';
    const { replies } = await w.run(`!relate 1 ${other.toUpperCase()}`);
    expect(replies).toEqual([`#1 related to ${other} — revision queued for 2 peers`]);
    expect(incident(1).incident.related).toEqual([{ id: other }]);
  });

  it('refuses what is neither a known incident nor a UUID, and the incident itself', async () => {
    expect((await w.run('!relate 1 #42')).replies).toEqual(['no incident #42']);
    expect((await w.run(`!relate 1 ${UUID1}`)).replies).toEqual(['an incident cannot be related to itself']);
    expect((await w.run(`!relate ${UUID2} 2`)).replies).toEqual(['an incident cannot be related to itself']);
    expect(w.calls.revise).toEqual([]);
  });
});
