/**
 * Keeps the bot in its default room, where everything is announced (and in each configured operators room). Being out of it is a hard, visible failure,
 * never a quiet one: every failed attempt is logged at error level, retried with exponential backoff for as long
 * as it lasts, told to the configured admins by direct message (once per reason, and again once it is fixed), and
 * readable by a health check (`status()`, or `rooms.isJoined()` / `rooms.lastJoinError()`).
 *
 * The usual cause is a members-only room that does not list the bot as a member: the room answers
 * `registration-required`, and the admin DM says which command fixes it.
 */
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import type { Client } from './connection.js';
import { bareJid } from '../protocol/validate.js';
import { RoomJoinError, type Rooms } from './rooms.js';
import { tellAdmins } from './admin-notice.js';

export interface RoomKeeperTiming {
  /** First retry delay (ms); doubles on every failure. Default 5 s. */
  retryMinMs: number;
  /** Longest delay between two attempts (ms). Default 5 min. */
  retryMaxMs: number;
}

export const ROOM_KEEPER_DEFAULTS: RoomKeeperTiming = { retryMinMs: 5_000, retryMaxMs: 300_000 };

export interface DefaultRoomStatus {
  room: string;
  joined: boolean;
  /** Why the last attempt failed, while we are out. */
  lastError?: string;
  /** Failed attempts since we were last in. */
  failures: number;
}

interface KeeperDeps {
  xmpp: Client;
  rooms: Rooms;
  config: Config;
  log: Logger;
  /** The room kept (default: `rooms.default`); the other operators rooms get a keeper each. */
  room?: string;
}

export class DefaultRoomKeeper {
  private readonly room: string;
  /** "default room" or "operators room", in logs and messages. */
  private readonly what: string;
  private readonly timing: RoomKeeperTiming;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private trying = false;
  private stopped = false;
  /** The reason the admins were last told about (they hear again only when it changes, or once it is fixed). */
  private toldAdmins: string | undefined;

  constructor(
    private readonly deps: KeeperDeps,
    timing: Partial<RoomKeeperTiming> = {},
  ) {
    this.room = bareJid(deps.room ?? deps.config.rooms.default);
    this.what = this.room === bareJid(deps.config.rooms.default) ? 'default room' : 'operators room';
    this.timing = { ...ROOM_KEEPER_DEFAULTS, ...timing };
    deps.rooms.onLeft((room) => {
      if (room !== this.room || this.stopped) return;
      deps.log.error({ room }, `out of the ${this.what}: rejoining`);
      this.schedule(0);
    });
    // The rooms rejoin by themselves after a reconnect; this watches the default room's outcome.
    deps.xmpp.on('online', () => this.schedule(0));
  }

  status(): DefaultRoomStatus {
    const joined = this.deps.rooms.isJoined(this.room);
    const lastError = joined ? undefined : this.deps.rooms.lastJoinError(this.room);
    return { room: this.room, joined, failures: this.failures, ...(lastError ? { lastError } : {}) };
  }

  /** The first attempt: resolves (never rejects) once it is known whether we are in; retries go on by themselves. */
  async start(): Promise<DefaultRoomStatus> {
    await this.attempt();
    return this.status();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.attempt(), delayMs);
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    if (this.stopped || this.trying) return;
    if (this.deps.rooms.isJoined(this.room)) return this.succeeded();
    if (this.deps.xmpp.status !== 'online') return; // the next 'online' tries again
    this.trying = true;
    try {
      await this.deps.rooms.join(this.room);
      this.succeeded();
    } catch (err) {
      this.failed(err as Error);
    } finally {
      this.trying = false;
    }
  }

  private succeeded(): void {
    if (this.failures > 0) {
      this.deps.log.info({ room: this.room, after: this.failures }, `in the ${this.what} again`);
      if (this.toldAdmins !== undefined) this.tellAdmins(`I am in my ${this.what} ${this.room} now.`);
    }
    this.failures = 0;
    this.toldAdmins = undefined;
  }

  private failed(err: Error): void {
    if (this.stopped) return;
    this.failures += 1;
    const retryInMs = Math.min(this.timing.retryMinMs * 2 ** (this.failures - 1), this.timing.retryMaxMs);
    const reason = err.message;
    this.deps.log.error({ room: this.room, attempt: this.failures, err: reason, retryInMs }, `cannot join the ${this.what}`);
    const condition = err instanceof RoomJoinError ? (err.condition ?? 'timeout') : 'not sent';
    if (this.toldAdmins !== condition) {
      this.toldAdmins = condition;
      this.tellAdmins(this.explain(reason, condition));
    }
    this.schedule(retryInMs);
  }

  private explain(reason: string, condition: string): string {
    const { username, domain } = this.deps.config.xmpp;
    const bot = `${username}@${domain}`;
    const [name = '', service = ''] = this.room.split('@');
    const hint: Record<string, string> = {
      'registration-required': `The room is members-only: give ${bot} the member affiliation (ejabberd: ejabberdctl set_room_affiliation ${name} ${service} ${bot} member; Prosody: from an owner's client, or make the room open).`,
      forbidden: `The room bans ${bot} (outcast affiliation): lift the ban.`,
      'not-authorized': 'The room is password-protected, which the bot does not support: remove the password, or make the bot a member.',
      'service-unavailable': 'The room is full, or the MUC service refuses new occupants.',
      'not-allowed': 'The MUC service does not let the bot create the room: create it yourself.',
      conflict: `Someone in the room uses my nick ${this.deps.config.nick}. I do not announce under another nick, since they would go on speaking as me: ask them to change nick, or register the nick for ${bot} (then only I may use it).`,
    };
    return [
      `I cannot join my ${this.what} ${this.room}: ${reason}.`,
      'Reports are still received and stored, but none is announced until I am in.',
      hint[condition] ?? '',
      "I keep trying, and I will tell you when I'm in.",
    ]
      .filter(Boolean)
      .join(' ');
  }

  private tellAdmins(text: string): void {
    tellAdmins(this.deps, text);
  }
}
