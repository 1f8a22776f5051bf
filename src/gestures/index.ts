/**
 * XMPP-native triage, wired in one call from the bot: replies and reactions to announcements (gestures.ts, with the
 * announcement index beside the store) and the ad-hoc command forms (src/adhoc).
 */
import type { Logger } from 'pino';
import { answerAdhoc } from '../adhoc/adhoc.js';
import type { Config } from '../core/config.js';
import type { TriageServices } from '../triage/context.js';
import type { Announcer } from '../xmpp/announcer.js';
import type { Client } from '../xmpp/connection.js';
import type { Disco } from '../xmpp/disco.js';
import type { Rooms } from '../xmpp/rooms.js';
import { AnnouncementIndex, announcementIndexPath } from './announcement-index.js';
import { Gestures } from './gestures.js';

export { isRoomGesture } from './gestures.js';

export interface XmppNativeTriage {
  gestures: Gestures;
  close(): Promise<void>;
}

export function startGestures(deps: { xmpp: Client; config: Config; rooms: Rooms; announcer: Announcer; services: TriageServices; disco: Disco; log: Logger }): XmppNativeTriage {
  const index = AnnouncementIndex.open(announcementIndexPath(deps.config.storage.path));
  const gestures = new Gestures({ ...deps, index });
  deps.announcer.tagLine = (room, number) => gestures.tag(room, number);
  answerAdhoc(deps);
  return { gestures, close: () => index.close() };
}
