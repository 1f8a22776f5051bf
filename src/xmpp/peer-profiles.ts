/**
 * Which profile each peer gets (src/protocol/peer-profile.ts): the configured `profile`, else what the peer's
 * software says it is — asked once with XEP-0092 (`jabber:iq:version`) at the JID we send to (a domain peer: its
 * server), cached, and asked again after a reconnect. No answer, or an error: `standard`.
 */
import xml from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { matchPeer } from '../core/trust.js';
import { profileOfSoftware, type PeerProfile } from '../protocol/peer-profile.js';
import type { Client } from './connection.js';

const VERSION_NS = 'jabber:iq:version';

export interface PeerProfileInfo {
  profile: PeerProfile;
  /** configured: from the config; detected: from its software version; default: nothing known (yet). */
  source: 'configured' | 'detected' | 'default';
  software?: string;
}

export class PeerProfiles {
  private readonly detected = new Map<string, Promise<PeerProfileInfo>>();
  private readonly settled = new Map<string, PeerProfileInfo>();

  constructor(
    private readonly xmpp: Client,
    private readonly config: Pick<Config, 'peers'>,
    private readonly log: Logger,
    private readonly timeoutMs = 5_000,
  ) {
    xmpp.on('online', () => {
      this.detected.clear();
      this.settled.clear();
    });
  }

  /** The profile for a JID we are about to send to (asks its software once if it is not configured). */
  async profileOf(jid: string): Promise<PeerProfileInfo> {
    const configured = matchPeer(jid, this.config.peers)?.profile;
    if (configured) return { profile: configured, source: 'configured' };
    const key = jid.toLowerCase();
    let pending = this.detected.get(key);
    if (!pending) {
      pending = this.ask(jid).then((info) => (this.settled.set(key, info), info));
      this.detected.set(key, pending);
    }
    return pending;
  }

  /** What is known now, without asking (for `!peers` and status). */
  known(jid: string): PeerProfileInfo | undefined {
    const configured = matchPeer(jid, this.config.peers)?.profile;
    if (configured) return { profile: configured, source: 'configured' };
    return this.settled.get(jid.toLowerCase());
  }

  private async ask(jid: string): Promise<PeerProfileInfo> {
    try {
      const reply = await this.xmpp.iqCaller.request(xml('iq', { type: 'get', to: jid }, xml('query', { xmlns: VERSION_NS })), this.timeoutMs);
      const query = reply.getChild('query', VERSION_NS);
      const name = query?.getChildText('name') ?? undefined;
      const version = query?.getChildText('version') ?? undefined;
      const software = name ? `${name}${version ? ` ${version}` : ''}`.slice(0, 100) : undefined;
      const profile = profileOfSoftware(name);
      this.log.info({ peer: jid, software, profile: profile ?? 'standard' }, 'peer software detected');
      return profile ? { profile, source: 'detected', ...(software ? { software } : {}) } : { profile: 'standard', source: 'default' };
    } catch (err) {
      this.log.info({ peer: jid, err: (err as Error).message }, 'peer software unknown (no version answer): standard profile');
      return { profile: 'standard', source: 'default' };
    }
  }
}
