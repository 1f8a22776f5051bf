/**
 * bot.config.json: schema, defaults and loading. Validation is declarative (zod) so every error can name the
 * exact key that is wrong; the caller turns a ConfigError into exit code 2.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { parseListen } from '../ops/http.js';
import { PEER_PROFILES } from '../protocol/peer-profile.js';
import { checkJid } from '../protocol/validate.js';
import { rtblSchema } from '../mitigation/rtbl-config.js';

const jid = (what: string) =>
  z.string().refine((v) => checkJid(v) === undefined, { message: `must be a ${what}` });

/** `operators@conference.example.org` or `*@conference.example.org` (any room of that MUC service). */
const roomPattern = z
  .string()
  .refine((v) => (v.startsWith('*@') ? checkJid(v.slice(2)) === undefined : checkJid(v) === undefined && v.includes('@') && !v.includes('/')), {
    message: 'must be a room JID (room@service) or *@service',
  });

const roomJid = z
  .string()
  .refine((v) => checkJid(v) === undefined && v.includes('@') && !v.includes('/'), {
    message: 'must be a room JID (room@service)',
  })
  // A pattern here would not be one: the bot would create a room named `*` and give its owners rights.
  .refine((v) => !v.startsWith('*@'), { message: 'must be one room (room@service): *@service patterns belong in rooms.allow' });

const peerSchema = z.strictObject({
  jid: jid('full JID, bare JID or domain'),
  trust: z.enum(['trusted', 'untrusted']).default('trusted'),
  /** Omitted: the format the peer itself reported in (IODEF for peers that never reported). */
  format: z.enum(['iodef', 'legacy']).optional(),
  /** What its software accepts (src/protocol/peer-profile.ts). Omitted: detected from its XEP-0092 software version. */
  profile: z.enum(PEER_PROFILES).optional(),
});

export const configSchema = z.strictObject({
  xmpp: z.strictObject({
    service: z
      .string()
      .refine((v) => /^(xmpps?|wss?):\/\/[^/\s]+/.test(v), { message: 'must be a URL like xmpp://host:5222 or xmpps://host:5223' }),
    domain: jid('domain'),
    username: z.string().min(1, 'must not be empty').refine((v) => !/[@/\s]/.test(v), { message: 'must be a bare username, without @ or /' }),
    /** May instead come from INCIDENT_BOT_PASSWORD. */
    password: z.string().min(1, 'must not be empty').optional(),
    resource: z.string().min(1).default('bot'),
    /**
     * Allow logging in without TLS to a server that is not on loopback. Never in production: the password and
     * every incident would cross the network in the clear (XEP-0268 §Security). Logged loudly when used.
     */
    allowPlaintext: z.boolean().default(false),
    /** TLS toward the server. The certificate must be valid for `domain` and signed by a trusted CA. */
    tls: z
      .strictObject({
        /**
         * A PEM file of CA certificates trusted in addition to Node's public roots (a private CA or a self-signed
         * server certificate). Relative to the config file's folder; checked when the config is loaded.
         */
        caFile: z.string().min(1, 'must not be empty').optional(),
      })
      .optional(),
  })
    .refine((x) => !(x.tls?.caFile && /^wss?:/.test(x.service)), {
      // Node's WebSocket takes no TLS options; NODE_EXTRA_CA_CERTS is read at start-up and covers it.
      message: 'applies to xmpp:// and xmpps:// services only; for wss:// start the bot with NODE_EXTRA_CA_CERTS=FILE',
      path: ['tls', 'caFile'],
    }),
  nick: z.string().min(1).max(64).default('incident-bot'),
  rooms: z.strictObject({
    /** The operators room: announcements go here, and its owners/admins may run admin commands in it. */
    default: roomJid,
    /** More operators rooms: joined at start, and their owners/admins have rights there (and only there). */
    operators: z.array(roomJid).default([]),
    /** Rooms a trusted report may name to be announced in. Such a room gives nobody any right over the bot. */
    allow: z.array(roomPattern).default([]),
    /** At most this many report-named rooms joined at once; the least recently used is left first. */
    maxJoined: z.number().int().min(1, 'must be at least 1').default(20),
    /** A report-named room with no incident announced in it for this long is left. */
    idleLeaveHours: z.number().positive().default(24),
  }),
  /** Bare JIDs: a full JID would look like it restricts the admin to one client, and it does not. */
  admins: z.array(jid('bare JID').refine((v) => !v.includes('/'), { message: 'must be a bare JID (no /resource): rights go to the account, not to one client' })).default([]),
  peers: z.array(peerSchema).default([]),
  untrusted: z.enum(['flag', 'reject']).default('flag'),
  storage: z.strictObject({ path: z.string().min(1) }),
  /** Flood and size limits on what peers send. */
  limits: z
    .strictObject({
      /** Reports (of any kind) accepted per sender (bare JID) per minute; beyond: resource-constraint. */
      reportsPerMinute: z.number().int().positive().default(3000),
      /** How many may arrive at once before the per-minute rate applies. */
      burst: z.number().int().positive().default(500),
      /** The same for all senders of one domain together: one foreign server cannot multiply its rate with accounts. */
      reportsPerMinutePerDomain: z.number().int().positive().default(6000),
      burstPerDomain: z.number().int().positive().default(1000),
      /**
       * Largest stanza the bot sends, in bytes as serialised (UTF-8, after escaping). Below the servers' own limits
       * (Prosody c2s_stanza_size_limit 256 KB, ejabberd's shipped max_stanza_size 256 KB), which close the stream.
       */
      maxStanzaBytes: z.number().int().min(8192, 'must be at least 8192 (bytes)').default(64 * 1024),
      /** Largest incident payload accepted, in characters of XML. */
      maxIncidentBytes: z.number().int().positive().default(64 * 1024),
      /** Most source and target addresses in one incident. */
      maxAddresses: z.number().int().positive().default(1000),
      /** Longest text (description, solution) in one incident. */
      maxTextLength: z.number().int().positive().default(8192),
    })
    .prefault({}),
  /**
   * Reminders of incidents nobody acknowledged: re-announced after `severeMinutes` (severity 1–2) or `otherMinutes`
   * (3–5, or unknown), at most `times` times (0: never); several due at once are one line. `!snooze` holds them.
   */
  reminders: z
    .strictObject({
      severeMinutes: z.number().positive().default(15),
      otherMinutes: z.number().positive().default(60),
      times: z.number().int().min(0).default(3),
    })
    .prefault({}),
  /** Optional HTTP endpoint for /metrics and /healthz (src/ops/http.ts). Off when absent. */
  http: z
    .strictObject({
      /** `127.0.0.1:9468`, `[::1]:9468`; another address only if you mean it (metrics name your peers). */
      listen: z.string().refine((v) => parseListen(v) !== undefined, { message: 'must be host:port, e.g. 127.0.0.1:9468 or [::1]:9468' }),
    })
    .optional(),
  /** Replies and reactions to announcements (src/gestures): `reactions: false` makes the bot ignore reactions. */
  gestures: z.strictObject({ reactions: z.boolean().default(true) }).prefault({}),
  /** Delivery of what the bot owes peers (revisions, forwards, inquiries): retry backoff and when to give up. */
  outbox: z
    .strictObject({
      retryMinSeconds: z.number().positive().default(5),
      retryMaxSeconds: z.number().positive().default(600),
      giveUpAfterMinutes: z.number().positive().default(2880),
      replyTimeoutSeconds: z.number().positive().default(30),
    })
    .prefault({}),
  /** Real-time block list the bot publishes to (src/mitigation/rtbl-config.ts). Off when absent. */
  rtbl: rtblSchema.optional(),
});

export type Config = z.infer<typeof configSchema> & { xmpp: { password: string } };
export type PeerConfig = z.infer<typeof peerSchema>;

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration in ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

/** Reads, parses and validates a config file; relative paths (storage, CA file) are resolved against the file's folder. */
export function loadConfig(file: string, opts: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  const config = parseConfig(raw, file, opts.env ?? process.env);
  const folder = dirname(resolve(file));
  config.storage.path = resolve(folder, config.storage.path);
  if (config.xmpp.tls?.caFile) {
    config.xmpp.tls.caFile = resolve(folder, config.xmpp.tls.caFile);
    const problem = checkCaFile(config.xmpp.tls.caFile);
    if (problem) throw new ConfigError(file, [`xmpp.tls.caFile: ${problem}`]);
  }
  return config;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Why `path` cannot serve as a CA file (unreadable, no PEM certificate, a broken one), or undefined when it can. */
export function checkCaFile(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return `cannot read ${path}: ${(err as Error).message}`;
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return `${path} holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block)`;
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `certificate ${i + 1} in ${path} cannot be parsed: ${(err as Error).message}`;
    }
  }
  return undefined;
}

/** Validates an already-parsed config object. */
export function parseConfig(raw: unknown, file = '<config>', env: NodeJS.ProcessEnv = {}): Config {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      file,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}${nearestKeyHint(issue)}`),
    );
  }
  const password = env.INCIDENT_BOT_PASSWORD || parsed.data.xmpp.password;
  if (!password) {
    throw new ConfigError(file, ['xmpp.password: missing (set it in the file or in INCIDENT_BOT_PASSWORD)']);
  }
  return { ...parsed.data, xmpp: { ...parsed.data.xmpp, password } };
}

/** The config as it may be shown to a human: the password masked. */
export function maskedConfig(config: Config): unknown {
  return { ...config, xmpp: { ...config.xmpp, password: '********' } };
}

/** The placeholder password of the shipped example: warned about by `--check-config` and at start. */
export const PLACEHOLDER_PASSWORD = 'change-me';

/** Warnings that do not make the config invalid. */
export function configWarnings(config: Config): string[] {
  return config.xmpp.password === PLACEHOLDER_PASSWORD
    ? [`xmpp.password: still the example's placeholder '${PLACEHOLDER_PASSWORD}': set the account's real password (or INCIDENT_BOT_PASSWORD)`]
    : [];
}

/** ` (did you mean "admins"?)` for an unknown key close to a valid one at the same place. */
function nearestKeyHint(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return '';
  const valid = keysAt(configSchema, issue.path);
  const hints = issue.keys.flatMap((key) => {
    const best = valid.map((v) => ({ v, d: distance(key.toLowerCase(), v.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
    return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? [`"${key}" → did you mean "${best.v}"?`] : [];
  });
  return hints.length ? ` (${hints.join('; ')})` : '';
}

/** The keys a (nested) object of the schema accepts, through optional/default wrappers. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: unknown = schema;
  for (const step of [...path, undefined]) {
    while (at && typeof at === 'object' && 'def' in at && (at as { def: { innerType?: unknown } }).def.innerType) {
      at = (at as { def: { innerType: unknown } }).def.innerType;
    }
    const shape = (at as { shape?: Record<string, unknown> }).shape;
    if (!shape) return [];
    if (step === undefined) return Object.keys(shape);
    at = shape[String(step)];
  }
  return [];
}
