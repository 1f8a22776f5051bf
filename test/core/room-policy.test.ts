import { describe, expect, it } from 'vitest';
import { roomAllowed } from '../../src/core/room-policy.js';

const DEFAULT = 'operators@conference.example.org';

describe('roomAllowed', () => {
  it('allows an exactly listed room', () => {
    expect(roomAllowed('triage@rooms.peer.example', ['triage@rooms.peer.example'], DEFAULT)).toBe(true);
  });

  it('refuses another room on the service of an exact entry', () => {
    expect(roomAllowed('other@rooms.peer.example', ['triage@rooms.peer.example'], DEFAULT)).toBe(false);
  });

  it('*@service allows any room on that service', () => {
    const allow = ['*@conference.example.org'];
    expect(roomAllowed('abuse@conference.example.org', allow, DEFAULT)).toBe(true);
    expect(roomAllowed('spam-wave-2024@conference.example.org', allow, DEFAULT)).toBe(true);
  });

  it('*@service does not allow another service, a subdomain or a lookalike', () => {
    const allow = ['*@conference.example.org'];
    expect(roomAllowed('abuse@conference.evil.example', allow, DEFAULT)).toBe(false);
    expect(roomAllowed('abuse@sub.conference.example.org', allow, DEFAULT)).toBe(false);
    expect(roomAllowed('abuse@evilconference.example.org', allow, DEFAULT)).toBe(false);
  });

  it('*@service does not allow the bare service itself (not a room)', () => {
    expect(roomAllowed('conference.example.org', ['*@conference.example.org'], DEFAULT)).toBe(false);
  });

  it('always allows the default room, even with an empty allow list', () => {
    expect(roomAllowed(DEFAULT, [], DEFAULT)).toBe(true);
    expect(roomAllowed('Operators@Conference.Example.org', [], DEFAULT)).toBe(true);
  });

  it('refuses everything else with an empty allow list', () => {
    expect(roomAllowed('abuse@conference.example.org', [], DEFAULT)).toBe(false);
  });

  it('refuses a room on another service', () => {
    expect(roomAllowed('operators@muc.evil.example', ['*@conference.example.org', 'x@rooms.peer.example'], DEFAULT)).toBe(false);
  });

  it('is case-insensitive for exact entries and *@service', () => {
    expect(roomAllowed('TRIAGE@Rooms.Peer.Example', ['triage@rooms.peer.example'], DEFAULT)).toBe(true);
    expect(roomAllowed('triage@rooms.peer.example', ['Triage@ROOMS.peer.example'], DEFAULT)).toBe(true);
    expect(roomAllowed('abuse@CONFERENCE.example.org', ['*@conference.example.org'], DEFAULT)).toBe(true);
    expect(roomAllowed('abuse@conference.example.org', ['*@Conference.Example.ORG'], DEFAULT)).toBe(true);
  });

  it('a room JID with a resource (occupant nick) compares by its bare JID', () => {
    expect(roomAllowed('triage@rooms.peer.example/alice', ['triage@rooms.peer.example'], DEFAULT)).toBe(true);
    expect(roomAllowed('abuse@conference.example.org/nick', ['*@conference.example.org'], DEFAULT)).toBe(true);
    expect(roomAllowed(`${DEFAULT}/someone`, [], DEFAULT)).toBe(true);
    expect(roomAllowed('other@rooms.peer.example/triage@rooms.peer.example', ['triage@rooms.peer.example'], DEFAULT)).toBe(false);
  });
});
