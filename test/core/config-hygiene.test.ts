import { describe, expect, it } from 'vitest';
import { configWarnings, parseConfig } from '../../src/core/config.js';

const base = {
  xmpp: { service: 'xmpp://127.0.0.1:5222', domain: 'example.org', username: 'bot', password: 'secret' },
  rooms: { default: 'ops@conference.example.org' },
  storage: { path: 'x.json' },
};

describe('config hygiene', () => {
  it('suggests the nearest valid key for an unknown one, at any depth', () => {
    expect(() => parseConfig({ ...base, adminz: [] })).toThrow('(top level): Unrecognized key: "adminz" ("adminz" → did you mean "admins"?)');
    expect(() => parseConfig({ ...base, rooms: { default: 'ops@conference.example.org', maxjoined: 3 } })).toThrow('did you mean "maxJoined"?');
    expect(() => parseConfig({ ...base, zzzzzz: 1 })).toThrow(/Unrecognized key: "zzzzzz"$/m);
  });

  it('refuses an admin written as a full JID, naming it', () => {
    expect(() => parseConfig({ ...base, admins: ['alice@example.org/phone'] })).toThrow('admins.0: must be a bare JID (no /resource)');
  });

  it("warns about the example's placeholder password", () => {
    expect(configWarnings(parseConfig({ ...base, xmpp: { ...base.xmpp, password: 'change-me' } }))[0]).toMatch(/^xmpp\.password: still the example's placeholder/);
    expect(configWarnings(parseConfig(base))).toEqual([]);
  });
});
