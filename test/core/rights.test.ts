import { describe, expect, it } from 'vitest';
import { isAdminInRoom, isConfiguredAdmin, isOperatorsRoom, mayAct, noRightsHere, operatorsRooms } from '../../src/core/rights.js';
import { bareJid } from '../../src/protocol/validate.js';

const config = {
  admins: ['Alice@Example.org'],
  rooms: { default: 'ops@conference.example.org', operators: ['night@conference.example.org'], allow: ['*@conference.example.org'], maxJoined: 20, idleLeaveHours: 24 },
};

describe('rights', () => {
  it('configured admins everywhere, by bare JID, case-insensitively', () => {
    expect(isConfiguredAdmin(config, 'alice@example.org/phone')).toBe(true);
    expect(isAdminInRoom(config, 'random@conference.example.org', 'alice@example.org', 'none')).toBe(true);
    expect(isConfiguredAdmin(config, 'alice@example.org.evil')).toBe(false);
    expect(isConfiguredAdmin(config, undefined)).toBe(false);
  });

  it('room owners/admins only in configured operators rooms, and only with a real JID', () => {
    for (const aff of ['owner', 'admin']) {
      expect(isAdminInRoom(config, 'ops@conference.example.org', 'carol@example.org', aff)).toBe(true);
      expect(isAdminInRoom(config, 'NIGHT@conference.example.org', 'carol@example.org', aff)).toBe(true);
      expect(isAdminInRoom(config, 'squat@conference.example.org', 'mallory@rogue.example', aff)).toBe(false);
      expect(isAdminInRoom(config, 'ops@conference.example.org', undefined, aff)).toBe(false);
    }
    expect(isAdminInRoom(config, 'ops@conference.example.org', 'bob@example.org', 'member')).toBe(false);
    expect(isOperatorsRoom(config, 'squat@conference.example.org')).toBe(false);
    expect(operatorsRooms(config)).toEqual(['ops@conference.example.org', 'night@conference.example.org']);
  });
});

describe('mayAct, the one entry point', () => {
  it('without a room (direct message, ad-hoc command): configured admins only, whatever they own', () => {
    expect(mayAct(config, 'alice@example.org/laptop')).toBe(true);
    expect(mayAct(config, 'carol@example.org')).toBe(false);
    expect(mayAct(config, undefined)).toBe(false);
  });

  it('in a room: owners/admins of configured operators rooms there, nobody else; the room JID as the server prepares it', () => {
    expect(mayAct(config, 'carol@example.org', { room: 'ops@conference.example.org', affiliation: 'owner' })).toBe(true);
    expect(mayAct(config, 'carol@example.org', { room: 'ＯＰＳ@conference.example.org', affiliation: 'admin' })).toBe(true);
    expect(mayAct(config, 'mallory@rogue.example', { room: 'mallory-war@conference.example.org', affiliation: 'owner' })).toBe(false);
    expect(mayAct(config, 'carol@example.org', { room: 'ops@conference.example.org' })).toBe(false);
    expect(mayAct(config, 'alice@example.org', { room: 'mallory-war@conference.example.org', affiliation: 'none' })).toBe(true);
  });

  it('the refusal names the room flattened: a line separator in a room JID cannot start a fake bot line', () => {
    const said = noRightsHere(config, 'war\u2028#999 NEW incident@conference.example.org');
    expect(said).not.toMatch(/[\n\r\u2028\u2029\u0085]/);
    expect(said).toContain('is not an operators room');
  });
});

describe('JID preparation for comparing', () => {
  it('folds case, NFD and fullwidth forms the way the server prepares them', () => {
    expect(bareJid('Cafe\u0301@Conference.Example.org/nick')).toBe('caf\u00e9@conference.example.org');
    expect(bareJid('ＯＰＳ@conference.example.org')).toBe('ops@conference.example.org');
    expect(bareJid('ops@conference.example.org')).toBe('ops@conference.example.org');
  });
});

describe('the config keys', () => {
  it('name the key when wrong', async () => {
    const { parseConfig } = await import('../../src/core/config.js');
    const base = { xmpp: { service: 'xmpp://127.0.0.1:5222', domain: 'example.org', username: 'bot', password: 'x' }, storage: { path: 'x.json' } };
    expect(() => parseConfig({ ...base, rooms: { default: 'ops@conference.example.org', maxJoined: 0 } })).toThrow(/rooms\.maxJoined: must be at least 1/);
    expect(() => parseConfig({ ...base, rooms: { default: 'ops@conference.example.org', operators: ['not a room'] } })).toThrow(/rooms\.operators\.0: must be a room JID/);
    expect(() => parseConfig({ ...base, rooms: { default: 'ops@conference.example.org', operators: ['*@conference.example.org'] } })).toThrow(
      /rooms\.operators\.0: must be one room \(room@service\): \*@service patterns belong in rooms\.allow/,
    );
    expect(() => parseConfig({ ...base, rooms: { default: 'ops@conference.example.org', maxJoined: 2.5 } })).toThrow(/rooms\.maxJoined/);
  });
});
