/** One line per configured peer — trust, format, profile and where the profile comes from — for `!peers` and
 * `--check-config`. */
import type { PeerConfig } from './config.js';

export interface ProfileKnowledge {
  profile: string;
  source: 'configured' | 'detected' | 'default';
  software?: string;
}

export function peerLine(peer: PeerConfig, known: ProfileKnowledge | undefined): string {
  const format = peer.format ? `format ${peer.format}` : 'format as it reports (iodef if it never did)';
  const profile = peer.profile
    ? `profile ${peer.profile} (configured)`
    : known
      ? `profile ${known.profile} (${known.source === 'detected' ? `detected: ${known.software ?? 'its software version'}` : 'no version answer'})`
      : 'profile detected at first contact (XEP-0092 software version)';
  return `${peer.jid} — ${peer.trust}, ${format}, ${profile}`;
}
