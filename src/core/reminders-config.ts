/**
 * The `reminders` config key (issue 15 §3): an incident nobody acknowledged is re-announced after a while, more
 * often when it is serious. Its own module so that config.ts only names the key.
 */
import { z } from 'zod';

export const remindersSchema = z
  .strictObject({
    /** Off: no reminders at all (snoozes are still recorded). */
    enabled: z.boolean().default(true),
    /** Severity 1–2 (the most serious): re-announced after this many minutes without an acknowledgement. */
    urgentAfterMinutes: z.number().positive().default(15),
    /** Severity 3–5, or none given. */
    otherAfterMinutes: z.number().positive().default(60),
    /** At most this many reminders per incident. */
    maxTimes: z.number().int().min(1, 'must be at least 1').default(3),
    /** How often the bot looks for due reminders (monotonic timer). */
    checkSeconds: z.number().positive().default(30),
  })
  .prefault({});

export type RemindersConfig = z.infer<typeof remindersSchema>;
