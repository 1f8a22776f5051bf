/** XEP-0045 names the room code shares, and the error a join ends with. */

export const MUC_NS = 'http://jabber.org/protocol/muc';
export const MUC_USER_NS = 'http://jabber.org/protocol/muc#user';
export const MUC_OWNER_NS = 'http://jabber.org/protocol/muc#owner';
export const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export interface Occupant {
  nick: string;
  /** The occupant's real full JID, when the room shows it to us. */
  jid?: string;
  affiliation: string;
  role: string;
}

export class RoomJoinError extends Error {
  constructor(
    message: string,
    /** The stanza error condition the room answered with (`registration-required`, …), if it answered. */
    readonly condition?: string,
  ) {
    super(message);
  }
}

/** Room status codes of a configuration change that concerns privacy (XEP-0045 §10.2.1): who sees real JIDs. */
export const PRIVACY_CHANGED = ['172', '173', '174'];

