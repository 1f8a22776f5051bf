import { describe, expect, it } from 'vitest';
import type { PeerConfig } from '../../src/core/config.js';
import { decideTrust, matchPeer } from '../../src/core/trust.js';

function peer(jid: string, trust: PeerConfig['trust'] = 'trusted', format: PeerConfig['format'] = 'iodef'): PeerConfig {
  return { jid, trust, format };
}

describe('full JID entry', () => {
  const peers = [peer('incidents@peer.example/bot')];

  it('matches exactly that full JID', () => {
    expect(decideTrust('incidents@peer.example/bot', peers)).toEqual({ trusted: true, peer: peers[0] });
  });

  it('does not match another resource of the same account', () => {
    expect(decideTrust('incidents@peer.example/laptop', peers)).toEqual({ trusted: false });
  });

  it('does not match the bare JID', () => {
    expect(decideTrust('incidents@peer.example', peers).trusted).toBe(false);
  });

  it('resource is case-sensitive', () => {
    expect(decideTrust('incidents@peer.example/Bot', peers).trusted).toBe(false);
    expect(decideTrust('incidents@peer.example/BOT', peers).trusted).toBe(false);
  });

  it('local and domain parts are case-insensitive', () => {
    expect(decideTrust('Incidents@PEER.example/bot', peers).trusted).toBe(true);
    expect(decideTrust('incidents@peer.example/bot', [peer('INCIDENTS@Peer.Example/bot')]).trusted).toBe(true);
  });

  it('a resource that only starts with the configured one does not match', () => {
    expect(decideTrust('incidents@peer.example/bot2', peers).trusted).toBe(false);
    expect(decideTrust('incidents@peer.example/bo', peers).trusted).toBe(false);
  });
});

describe('bare JID entry', () => {
  const peers = [peer('incidents@peer.example')];

  it('matches any resource', () => {
    expect(decideTrust('incidents@peer.example/bot', peers).trusted).toBe(true);
    expect(decideTrust('incidents@peer.example/other', peers).trusted).toBe(true);
    expect(decideTrust('incidents@peer.example', peers).trusted).toBe(true);
  });

  it('is case-insensitive', () => {
    expect(decideTrust('INCIDENTS@Peer.Example/x', peers).trusted).toBe(true);
    expect(decideTrust('incidents@peer.example/x', [peer('Incidents@PEER.EXAMPLE')]).trusted).toBe(true);
  });

  it('does not match another account or the domain itself', () => {
    expect(decideTrust('mallory@peer.example/bot', peers).trusted).toBe(false);
    expect(decideTrust('peer.example', peers).trusted).toBe(false);
    expect(decideTrust('incidents@evilpeer.example/bot', peers).trusted).toBe(false);
  });
});

describe('domain entry', () => {
  const peers = [peer('peer.example')];

  it('matches any JID on that domain', () => {
    expect(decideTrust('incidents@peer.example/bot', peers).trusted).toBe(true);
    expect(decideTrust('someone@peer.example', peers).trusted).toBe(true);
    expect(decideTrust('peer.example', peers).trusted).toBe(true);
    expect(decideTrust('peer.example/component', peers).trusted).toBe(true);
  });

  it('is case-insensitive', () => {
    expect(decideTrust('incidents@PEER.Example/bot', peers).trusted).toBe(true);
    expect(decideTrust('incidents@peer.example/bot', [peer('Peer.EXAMPLE')]).trusted).toBe(true);
  });

  it('does not match a subdomain', () => {
    expect(decideTrust('incidents@sub.peer.example/bot', peers).trusted).toBe(false);
    expect(decideTrust('conference.peer.example', peers).trusted).toBe(false);
  });

  it('does not match a lookalike domain', () => {
    expect(decideTrust('incidents@evilpeer.example/bot', peers).trusted).toBe(false);
    expect(decideTrust('incidents@peer.example.evil/bot', peers).trusted).toBe(false);
  });

  it('does not match a localpart that looks like the domain', () => {
    expect(decideTrust('peer.example@evil.example/bot', peers).trusted).toBe(false);
  });

  it('does not match a resource that looks like the domain', () => {
    expect(decideTrust('evil.example/peer.example', peers).trusted).toBe(false);
    expect(decideTrust('x@evil.example/peer.example', peers).trusted).toBe(false);
  });
});

describe('most specific entry wins', () => {
  it('a full-JID untrusted entry beats a domain trusted entry, whatever the order', () => {
    const full = peer('incidents@peer.example/bot', 'untrusted');
    const domain = peer('peer.example', 'trusted');
    for (const peers of [
      [domain, full],
      [full, domain],
    ]) {
      expect(decideTrust('incidents@peer.example/bot', peers)).toEqual({ trusted: false, peer: full });
      // other resources still fall back to the domain entry
      expect(decideTrust('incidents@peer.example/other', peers)).toEqual({ trusted: true, peer: domain });
    }
  });

  it('a full-JID trusted entry beats a domain untrusted entry', () => {
    const full = peer('incidents@peer.example/bot', 'trusted');
    const domain = peer('peer.example', 'untrusted');
    const peers = [domain, full];
    expect(decideTrust('incidents@peer.example/bot', peers)).toEqual({ trusted: true, peer: full });
    expect(decideTrust('someone@peer.example/bot', peers)).toEqual({ trusted: false, peer: domain });
  });

  it('a bare-JID entry beats a domain entry', () => {
    const bare = peer('incidents@peer.example', 'untrusted');
    const domain = peer('peer.example', 'trusted');
    expect(decideTrust('incidents@peer.example/x', [domain, bare])).toEqual({ trusted: false, peer: bare });
  });

  it('a full-JID entry beats a bare-JID entry', () => {
    const bare = peer('incidents@peer.example', 'trusted');
    const full = peer('incidents@peer.example/bot', 'untrusted', 'legacy');
    expect(matchPeer('incidents@peer.example/bot', [bare, full])).toBe(full);
    expect(matchPeer('incidents@peer.example/web', [bare, full])).toBe(bare);
  });
});

describe('unknown senders', () => {
  it('are untrusted and have no peer entry', () => {
    const peers = [peer('peer.example'), peer('incidents@other.example/bot')];
    expect(decideTrust('stranger@nowhere.example/x', peers)).toEqual({ trusted: false });
    expect(matchPeer('stranger@nowhere.example/x', peers)).toBeUndefined();
  });

  it('with no peers configured nobody is trusted', () => {
    expect(decideTrust('incidents@peer.example/bot', [])).toEqual({ trusted: false });
  });

  it('an untrusted entry that matches is returned with trusted false', () => {
    const p = peer('peer.example', 'untrusted', 'legacy');
    expect(decideTrust('x@peer.example/y', [p])).toEqual({ trusted: false, peer: p });
  });
});
