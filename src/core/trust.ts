/**
 * The trust list. Trust is decided only from the stanza's `from` address (the server stamps it), never from
 * anything the payload claims. A peer entry may be a full JID, a bare JID or a bare domain.
 */
import type { PeerConfig } from './config.js';
import { bareJid, domainOf } from '../protocol/validate.js';

export interface TrustDecision {
  trusted: boolean;
  /** The configured peer entry that matched, most specific first (full JID, then bare JID, then domain). */
  peer?: PeerConfig;
}

/** Finds the most specific configured peer entry matching a sender, whatever its trust level. */
export function matchPeer(from: string, peers: readonly PeerConfig[]): PeerConfig | undefined {
  const full = normaliseFull(from);
  const bare = bareJid(from);
  const domain = domainOf(from);
  return (
    peers.find((p) => p.jid.includes('/') && normaliseFull(p.jid) === full) ??
    peers.find((p) => !p.jid.includes('/') && p.jid.includes('@') && bareJid(p.jid) === bare) ??
    peers.find((p) => !p.jid.includes('@') && !p.jid.includes('/') && p.jid.toLowerCase() === domain)
  );
}

export function decideTrust(from: string, peers: readonly PeerConfig[]): TrustDecision {
  const peer = matchPeer(from, peers);
  return peer ? { trusted: peer.trust === 'trusted', peer } : { trusted: false };
}

/** Local and domain parts compare case-insensitively; the resource is case-sensitive. */
function normaliseFull(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid.toLowerCase() : `${jid.slice(0, slash).toLowerCase()}${jid.slice(slash)}`;
}
