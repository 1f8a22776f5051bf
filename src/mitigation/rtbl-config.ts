/**
 * The `rtbl` part of bot.config.json: where the bot publishes its real-time block list (the pubsub service and
 * node Prosody's and ejabberd's `mod_muc_rtbl` subscribe to), and how long one abuse-report storm stays one line.
 */
import { z } from 'zod';
import { checkJid } from '../protocol/validate.js';

export const RTBL_DEFAULT_NODE = 'muc_bans_sha256';

export const rtblSchema = z.strictObject({
  /** The pubsub service JID, e.g. `pubsub.example.org` (the bot must be allowed to create nodes there). */
  service: z.string().refine((v) => checkJid(v) === undefined && !v.includes('/'), { message: 'must be a pubsub service JID (a domain or bare JID)' }),
  node: z.string().min(1, 'must not be empty').default(RTBL_DEFAULT_NODE),
  /** Abuse reports about one JID within this many seconds give at most one room line per incident. */
  stormWindowSeconds: z.number().positive().default(600),
  /** Others' block lists to follow (e.g. xmppbl.org's): an incident whose source is listed says so. */
  follow: z
    .array(
      z.strictObject({
        service: z.string().refine((v) => checkJid(v) === undefined && !v.includes('/'), { message: 'must be a pubsub service JID' }),
        node: z.string().min(1, 'must not be empty').default(RTBL_DEFAULT_NODE),
      }),
    )
    .default([]),
});

/** Abuse-report settings used when `rtbl` is not configured (reports still become incidents). */
export const DEFAULT_STORM_WINDOW_SECONDS = 600;

export type RtblConfig = z.infer<typeof rtblSchema>;
