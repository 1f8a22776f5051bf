/**
 * Peer profile detection (issue 12): configured wins; otherwise the peer's software is asked once with XEP-0092,
 * the answer is cached, and asked again after a reconnect. The end-to-end version, on a real Prosody, is in
 * test/integration/interop.test.ts; this one counts the questions.
 */
import { EventEmitter } from 'node:events';
import xml, { type Element } from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/log.js';
import type { Client } from '../../src/xmpp/connection.js';
import { PeerProfiles } from '../../src/xmpp/peer-profiles.js';

function stream(answer: (to: string) => Element | Error) {
  const asked: string[] = [];
  const client = Object.assign(new EventEmitter(), {
    iqCaller: {
      request: async (iq: Element) => {
        asked.push(String(iq.attrs.to));
        const a = answer(String(iq.attrs.to));
        if (a instanceof Error) throw a;
        return a;
      },
    },
  });
  return { client, asked };
}

const version = (name: string, v: string) =>
  xml('iq', { type: 'result' }, xml('query', { xmlns: 'jabber:iq:version' }, xml('name', {}, name), xml('version', {}, v)));

const peers = (profile?: 'standard' | 'metronome') =>
  ({ peers: [{ jid: 'metronome.example', trust: 'trusted', ...(profile ? { profile } : {}) }] }) as unknown as Pick<Config, 'peers'>;

describe('PeerProfiles', () => {
  it('detects Metronome by its software name, asks once, and again after a reconnect', async () => {
    const { client, asked } = stream(() => version('Metronome', '4.0.5'));
    const profiles = new PeerProfiles(client as unknown as Client, peers(), silentLogger());
    expect(profiles.known('metronome.example')).toBeUndefined();
    const [a, b] = await Promise.all([profiles.profileOf('metronome.example'), profiles.profileOf('Metronome.Example')]);
    expect(a).toEqual({ profile: 'metronome', source: 'detected', software: 'Metronome 4.0.5' });
    expect(b).toEqual(a);
    expect(asked).toEqual(['metronome.example']);
    expect(profiles.known('metronome.example')?.profile).toBe('metronome');
    client.emit('online');
    expect(profiles.known('metronome.example')).toBeUndefined();
    await profiles.profileOf('metronome.example');
    expect(asked).toHaveLength(2);
  });

  it('another software, or no answer: standard', async () => {
    const prosody = new PeerProfiles(stream(() => version('Prosody', '0.12.3')).client as unknown as Client, peers(), silentLogger());
    expect((await prosody.profileOf('metronome.example')).profile).toBe('standard');
    const silent = new PeerProfiles(stream(() => new Error('timeout')).client as unknown as Client, peers(), silentLogger());
    expect(await silent.profileOf('metronome.example')).toEqual({ profile: 'standard', source: 'default' });
  });

  it('a configured profile is used without asking', async () => {
    const { client, asked } = stream(() => version('Metronome', '4.0.5'));
    const profiles = new PeerProfiles(client as unknown as Client, peers('standard'), silentLogger());
    expect(await profiles.profileOf('metronome.example')).toEqual({ profile: 'standard', source: 'configured' });
    expect(asked).toEqual([]);
  });
});
