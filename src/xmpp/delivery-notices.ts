/**
 * What the delivery of owed stanzas needs from the rest of the bot: each payload shaped for the peer's software
 * (peer profiles) just before it goes out, and the outcomes worth saying — refusals, give-ups, silent peers, answers
 * to inquiries — said in the room (or to the admin who asked by DM).
 */
import xml, { type Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { line } from '../core/flat-text.js';
import type { OutboxEntry } from '../core/store.js';
import { shapeForProfile } from '../protocol/peer-profile.js';
import type { Announcer } from './announcer.js';
import type { Client } from './connection.js';
import type { DeliveryOutcome } from './delivery.js';
import type { PeerProfiles } from './peer-profiles.js';

/**
 * Peers told in the room that Metronome fails on inquiries about incidents it knows: once per peer per bot (keyed
 * by the bot's PeerProfiles, so that two bots in one process, as in tests, each say it).
 */
const warnedInquiries = new WeakMap<PeerProfiles, Set<string>>();

/** Shapes an owed payload for the peer's software, just before it goes out (see src/protocol/peer-profile.ts). */
export async function shapeFor(
  deps: { profiles: PeerProfiles; config: Config; announcer: Announcer },
  entry: OutboxEntry,
  payload: Element,
): Promise<Element> {
  // Pubsub publications (the block list) go to a pubsub service, not a peer: nothing to shape, no version to ask.
  if (payload.name === 'pubsub') return payload;
  const { profile } = await deps.profiles.profileOf(entry.to);
  let warned = warnedInquiries.get(deps.profiles);
  if (!warned) warnedInquiries.set(deps.profiles, (warned = new Set()));
  if (profile === 'metronome' && payload.name === 'inquiry' && !warned.has(entry.to.toLowerCase())) {
    warned.add(entry.to.toLowerCase());
    deps.announcer.say(
      deps.config.rooms.default,
      line`${entry.to} runs Metronome, whose handler fails on inquiries about incidents it knows: it may never answer the ${entry.purpose}.`,
    );
  }
  return shapeForProfile(payload, profile, deps.config.xmpp.domain);
}

export interface DeliveryReportDeps {
  xmpp: Client;
  config: Config;
  announcer: Announcer;
  count(event: string): void;
  log: Logger;
}

/** Says what came of an owed stanza, where it matters: refusals and give-ups always, answers to inquiries. */
export function reportDelivery(deps: DeliveryReportDeps, entry: OutboxEntry, outcome: DeliveryOutcome): void {
  deps.count(`delivery-${outcome.kind}`);
  const about = entry.number !== undefined ? ` of #${entry.number}` : '';
  let text: string | undefined;
  if (outcome.kind === 'refused') {
    // The condition and text are the peer's words: flattened like everything a peer says.
    text = line`${entry.to} refused the ${entry.purpose}${about}: ${outcome.condition}${outcome.text ? line` (${outcome.text})` : ''}`;
  } else if (outcome.kind === 'gave-up') {
    const others = outcome.others?.length ?? 0;
    for (let i = 0; i < others; i++) deps.count('delivery-gave-up');
    const more = others ? `, and ${others} more stanza${others === 1 ? '' : 's'} owed to it` : '';
    text = line`Gave up delivering the ${entry.purpose}${about} to ${entry.to} after ${entry.attempts} attempts${
      outcome.lastError ? line` (last error: ${outcome.lastError})` : ''
    }${more}.`;
  } else if (outcome.kind === 'silent') {
    text = line`${entry.to} has not answered ${outcome.unanswered} stanzas in a row (last: the ${entry.purpose}${about}); still retrying.`;
  } else if (entry.notify !== undefined) {
    text = line`${entry.to} accepted the ${entry.purpose}${about}; what it sends back will be announced.`;
  }
  if (text === undefined) return;
  const target = entry.notify ?? deps.config.rooms.default;
  // A room is a bare JID; an admin who asked by direct message is notified at the full JID they wrote from.
  if (target.includes('/')) {
    deps.xmpp
      .send(xml('message', { to: target, type: 'chat' }, xml('body', {}, text)))
      .catch((err: Error) => deps.log.warn({ to: target, err: err.message }, 'delivery notice not sent'));
  } else {
    deps.announcer.say(target, text);
  }
}
