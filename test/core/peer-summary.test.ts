/** Peer profiles in the configuration and in the one-line summary `!peers` and `--check-config` print (issue 12). */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/core/config.js';
import { peerLine } from '../../src/core/peer-summary.js';

const raw = (peer: Record<string, unknown>) => ({
  xmpp: { service: 'xmpp://127.0.0.1:5222', domain: 'example.org', username: 'incidents', password: 'secret' },
  rooms: { default: 'operators@conference.example.org' },
  storage: { path: 'data/incidents.json' },
  peers: [{ jid: 'metronome.example', trust: 'trusted', ...peer }],
});

describe('peer profile in the configuration', () => {
  it('is optional, and may be standard or metronome', () => {
    expect(parseConfig(raw({}), 'test.json', {}).peers[0]!.profile).toBeUndefined();
    expect(parseConfig(raw({ profile: 'metronome' }), 'test.json', {}).peers[0]!.profile).toBe('metronome');
    expect(parseConfig(raw({ profile: 'standard' }), 'test.json', {}).peers[0]!.profile).toBe('standard');
  });

  it('an unknown profile is a config error naming the key', () => {
    let problems: string[] = [];
    try {
      parseConfig(raw({ profile: 'prosody' }), 'test.json', {});
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      problems = (err as ConfigError).problems;
    }
    expect(problems.some((p) => p.startsWith('peers.0.profile') || p.startsWith('peers[0].profile'))).toBe(true);
  });
});

describe('peerLine', () => {
  const peer = parseConfig(raw({}), 'test.json', {}).peers[0]!;

  it('says where the profile comes from: configured, detected with the software, no answer, not asked yet', () => {
    const configured = parseConfig(raw({ profile: 'metronome', format: 'iodef' }), 'test.json', {}).peers[0]!;
    expect(peerLine(configured, undefined)).toBe('metronome.example — trusted, format iodef, profile metronome (configured)');
    expect(peerLine(peer, { profile: 'metronome', source: 'detected', software: 'Metronome 4.0.5' })).toBe(
      'metronome.example — trusted, format as it reports (iodef if it never did), profile metronome (detected: Metronome 4.0.5)',
    );
    expect(peerLine(peer, { profile: 'standard', source: 'default' })).toContain('profile standard (no version answer)');
    expect(peerLine(peer, undefined)).toContain('profile detected at first contact (XEP-0092 software version)');
  });
});
