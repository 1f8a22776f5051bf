/**
 * The running bot: wires the connection, the store, the stanza routes, the rooms and the announcer.
 * `startBot` resolves once the bot is online and in its default room; `stop()` shuts it down cleanly.
 */
import type { Server } from 'node:http';
import xml from '@xmpp/xml';
import type { Logger } from 'pino';
import { allCommands } from '../commands/index.js';
import type { Config } from './core/config.js';
import { operatorsRooms } from './core/rights.js';
import { roomAllowed } from './core/room-policy.js';
import { IncidentStore } from './core/store.js';
import type { ReportOutcome } from './core/workflow.js';
import { startHttp } from './ops/http.js';
import { BotMetrics } from './ops/metrics.js';
import { reloadConfig, type ReloadResult } from './ops/reload.js';
import type { IodefKind } from './protocol/incident.js';
import { bareJid } from './protocol/validate.js';
import { startGestures } from './gestures/index.js';
import { createServices } from './triage/services.js';
import { announceOutcome, storeHealthLine } from './xmpp/announce-outcome.js';
import { line } from './core/flat-text.js';
import { muteEndedLine, Mutes } from './core/mutes.js';
import { Reminders } from './xmpp/reminders.js';
import { Announcer } from './xmpp/announcer.js';
import { routeChat } from './xmpp/chat.js';
import { createConnection, startOrFail, type Client } from './xmpp/connection.js';
import { Delivery } from './xmpp/delivery.js';
import { reportDelivery, shapeFor } from './xmpp/delivery-notices.js';
import { answerDiscoInfo } from './xmpp/disco.js';
import { routeIncoming } from './xmpp/incoming.js';
import { checkIqReplies } from './xmpp/iq-request.js';
import { PeerProfiles } from './xmpp/peer-profiles.js';
import { ReportRooms } from './xmpp/report-rooms.js';
import { tellAdmins } from './xmpp/admin-notice.js';
import { DefaultRoomKeeper, type DefaultRoomStatus, type RoomKeeperTiming } from './xmpp/room-keeper.js';
import { Rooms } from './xmpp/rooms.js';
import { guardStanzaSize } from './xmpp/stanza-guard.js';
import { applyXmppJsFixes } from './xmpp/xmpp-js-fixes.js';
import { routeAbuseReports } from './mitigation/abuse-route.js';
import { keepRtblNode } from './mitigation/rtbl.js';
import { followBlockLists } from './mitigation/rtbl-follow.js';
import { lookUpRoomMembers } from './mitigation/room-members.js';

export { storeHealthLine };

export interface BotOptions {
  log: Logger;
  /** Gap between two bot messages in a room (ms). */
  roomIntervalMs?: number;
  /** How often reminders and mutes are looked at (tests make them short). */
  reminderCheckMs?: number;
  muteCheckMs?: number;
  /** The config file it was started from: what `reload` (SIGHUP) reads again. */
  configFile?: string;
  /** Retry delays for the default room when the bot cannot join it (tests make them short). */
  defaultRoomRetry?: Partial<RoomKeeperTiming>;
}

export interface Bot {
  xmpp: Client;
  /** Which profile each peer gets (configured or detected). */
  profiles: PeerProfiles;
  store: IncidentStore;
  rooms: Rooms;
  config: Config;
  stats: Map<string, number>;
  /** Whether the bot is in its default room, and if not why (for a health check). */
  defaultRoom(): DefaultRoomStatus;
  /** Re-reads the config file and applies what can change live (src/ops/reload.ts). */
  reload(): Promise<ReloadResult>;
  /** Where /metrics and /healthz are served (host:port), when `http` is configured. */
  httpAddress(): string | undefined;
  stop(): Promise<void>;
}

export interface AssembledBot extends Bot {
  /** Connects, joins the default room and starts delivering what is owed. */
  start(): Promise<void>;
}

export async function startBot(config: Config, opts: BotOptions): Promise<Bot> {
  const bot = await assembleBot(config, opts);
  await bot.start();
  return bot;
}

/**
 * Wires every part around a client that is not connected yet. The fuzz harness uses this directly: it feeds
 * stanzas into the client's own middleware (the path real stanzas take) and captures what the bot sends.
 */
export async function assembleBot(config: Config, opts: BotOptions & { xmpp?: Client }): Promise<AssembledBot> {
  const { log } = opts;
  const store = await IncidentStore.open(config.storage.path, { note: (message) => log.info({ store: config.storage.path }, message) });
  const xmpp = opts.xmpp ?? createConnection(config, log);
  applyXmppJsFixes(xmpp);
  // At the bottom of the send path, so that nothing the bot sends can be over the server's stanza limit, and every
  // IQ answer it waits for must come from whom it asked.
  guardStanzaSize(xmpp, config.limits.maxStanzaBytes, log);
  checkIqReplies(xmpp, log);
  const rooms = new Rooms(xmpp, config.nick, log);
  let keeper = new DefaultRoomKeeper({ xmpp, rooms, config, log }, opts.defaultRoomRetry);
  const keepOperatorsRoom = (room: string) => new DefaultRoomKeeper({ xmpp, rooms, config, log, room }, opts.defaultRoomRetry);
  const operatorKeepers = new Map(
    operatorsRooms(config)
      .filter((room) => room !== bareJid(config.rooms.default))
      .map((room) => [room, keepOperatorsRoom(room)] as const),
  );
  // Metrics only when the HTTP endpoint is configured: an idle registry would still cost a little per report.
  let metrics: BotMetrics | undefined;
  const announcer = new Announcer(rooms, log, {
    ...(opts.roomIntervalMs ? { intervalMs: opts.roomIntervalMs } : {}),
    ...(config.http ? { onAnnounced: (ms: number) => metrics?.announced(ms / 1000) } : {}),
  });
  const reportRooms = new ReportRooms({
    rooms,
    config,
    log,
    waiting: (room) => announcer.waiting(room),
    moveWaiting: (from, to) => announcer.moveWaiting(from, to),
    tellAdmins: (text) => tellAdmins({ xmpp, config, log }, text),
  });
  // Said once when the store stops being able to write (a full disk) and once when it writes again.
  store.onHealthChange((health) => {
    const line = storeHealthLine(health);
    if (health.ok) log.info({ store: config.storage.path }, line);
    else log.error({ store: config.storage.path, problem: health.problem }, line);
    announcer.say(config.rooms.default, line);
  });
  const stats = new Map<string, number>();
  const count = (event: string) => {
    stats.set(event, (stats.get(event) ?? 0) + 1);
    if (!metrics) return;
    if (event.startsWith('rejected-')) metrics.refused(event.slice('rejected-'.length));
    else if (event.startsWith('delivery-')) metrics.delivery(event.slice('delivery-'.length));
  };
  if (config.http) {
    metrics = new BotMetrics({ store, online: () => xmpp.status === 'online', inDefaultRoom: () => keeper.status().joined });
    let streams = 0;
    xmpp.on('online', () => {
      if (streams++ > 0) metrics?.reconnects.inc();
    });
  }
  let http: Server | undefined;
  let reloading: Promise<ReloadResult> = Promise.resolve({ ok: true, lines: [] });

  xmpp.on('error', (err: Error) => log.warn({ err: err.message }, 'xmpp error'));
  xmpp.on('offline', () => log.info('offline'));
  xmpp.on('online', (address: { toString(): string }) => {
    log.info({ jid: address.toString() }, 'online');
    // Initial presence: without it the server keeps chats to our bare JID offline.
    xmpp.send(xml('presence')).catch((err: Error) => log.warn({ err: err.message }, 'initial presence not sent'));
  });

  const disco = answerDiscoInfo(xmpp);
  const mutes = await Mutes.open(config.storage.path);
  const muteTimer = setInterval(() => {
    mutes
      .expire()
      .then((ended) => ended.forEach((m) => announcer.say(config.rooms.default, line`${muteEndedLine(m)}`)))
      .catch((err: Error) => log.warn({ err: err.message }, 'mutes not saved'));
  }, opts.muteCheckMs ?? 10_000);
  muteTimer.unref();
  const reminders = new Reminders({ store, config, announcer, log }, opts.reminderCheckMs);
  const announce = (outcome: ReportOutcome, kind: IodefKind | 'legacy') => {
    // Muted: stored, acknowledged and counted already; only the room line is held (one summary when it ends).
    if (mutes.hold(outcome.stored)) return;
    announceOutcome({ config, reportRooms, announcer, log }, outcome, kind).catch((err: Error) =>
      log.error({ err: err.message, number: outcome.stored.number }, 'announcement failed'),
    );
  };
  const profiles = new PeerProfiles(xmpp, config, log);
  const delivery = new Delivery(
    xmpp,
    store,
    {
      shapePayload: (entry, payload) => shapeFor({ profiles, config, announcer }, entry, payload),
      retryMinMs: config.outbox.retryMinSeconds * 1000,
      retryMaxMs: config.outbox.retryMaxSeconds * 1000,
      giveUpAfterMs: config.outbox.giveUpAfterMinutes * 60_000,
      replyTimeoutMs: config.outbox.replyTimeoutSeconds * 1000,
      maxStanzaBytes: config.limits.maxStanzaBytes,
    },
    log,
    (entry, outcome) => reportDelivery({ xmpp, config, announcer, count, log }, entry, outcome),
  );
  const routes = routeIncoming({ xmpp, config, store, log, announce, count, kickDelivery: () => delivery.kick(), ...(metrics ? { observe: metrics } : {}) });
  routeAbuseReports({ xmpp, config, store, log, count, announce: (room, item) => announcer.announce(room, item) });
  keepRtblNode(xmpp, config, log);
  followBlockLists(xmpp, config, log);
  lookUpRoomMembers(xmpp, config);
  const selfJid = `${config.xmpp.username}@${config.xmpp.domain}/${config.xmpp.resource}`;
  const services = createServices({
    peerProfile: (jid) => profiles.known(jid),
    // Late-bound: the bot object that implements it is made below.
    reload: () => self.reload(),
    realJidOf: (room, nick) => rooms.occupant(room, nick)?.jid,
    mutes,
    config,
    store,
    commands: allCommands,
    selfJid,
    kickDelivery: () => delivery.kick(),
    stats: () => Object.fromEntries(stats),
  });
  routeChat({ xmpp, config, rooms, announcer, services, log });
  const gestures = startGestures({ xmpp, config, rooms, announcer, services, disco, log });

  let stopped = false;
  const self: AssembledBot = {
    xmpp,
    profiles,
    store,
    rooms,
    config,
    stats,
    defaultRoom: () => keeper.status(),
    async reload() {
      if (!opts.configFile) return { ok: false, lines: ['This bot was not started from a config file: nothing to reload.'] };
      // One at a time: a SIGHUP during a `reload` command waits for it (and a failed one does not block the next).
      reloading = reloading.catch(() => undefined).then(() =>
        reloadConfig(opts.configFile!, {
          config,
          setLimits: (limits) => routes.setLimits(limits),
          async operatorsRoomsChanged(before) {
            const was = new Set(operatorsRooms({ admins: [], rooms: before }));
            const now = new Set(operatorsRooms(config));
            const defaultRoom = bareJid(config.rooms.default);
            if (bareJid(before.default) !== defaultRoom) {
              keeper.stop();
              operatorKeepers.get(defaultRoom)?.stop();
              operatorKeepers.delete(defaultRoom);
              keeper = new DefaultRoomKeeper({ xmpp, rooms, config, log }, opts.defaultRoomRetry);
              void keeper.start();
            }
            for (const room of was) {
              if (now.has(room)) continue;
              operatorKeepers.get(room)?.stop();
              operatorKeepers.delete(room);
              await rooms.leave(room);
            }
            for (const room of now) {
              if (room === defaultRoom || operatorKeepers.has(room)) continue;
              const added = keepOperatorsRoom(room);
              operatorKeepers.set(room, added);
              void added.start();
            }
          },
          leaveDisallowedReportRooms: () => reportRooms.leaveDisallowed((room) => roomAllowed(room, config.rooms.allow, config.rooms.default)),
        }),
      );
      const result = await reloading;
      log.info({ ok: result.ok, result: result.lines.join(' ') }, 'configuration reload');
      return result;
    },
    httpAddress: () => {
      const address = http?.address();
      return typeof address === 'object' && address ? `${address.address}:${address.port}` : undefined;
    },
    async start() {
      if (config.http && metrics) {
        // Before connecting: a health check must be able to say "not connected yet".
        http = await startHttp(config.http.listen, metrics, {
          online: () => xmpp.status === 'online',
          defaultRoom: () => keeper.status(),
          store: () => store.health,
        }, log);
      }
      await startOrFail(xmpp, config);
      delivery.start();
      // Not in the default room is no reason to stop serving peers (reports are stored), but it must not look
      // like a healthy start: a warning here, an error per attempt, a DM to the admins (see DefaultRoomKeeper).
      for (const other of operatorKeepers.values()) void other.start();
      const room = await keeper.start();
      if (room.joined) {
        log.info({ incidents: store.size, room: room.room, roomJoined: true }, 'bot started');
      } else {
        log.warn(
          { incidents: store.size, room: room.room, roomJoined: false, err: room.lastError },
          'bot started WITHOUT its default room: nothing is announced until it can join (retrying)',
        );
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (http) await new Promise<void>((resolve) => http!.close(() => resolve()));
      keeper.stop();
      for (const other of operatorKeepers.values()) other.stop();
      reportRooms.stop();
      clearInterval(muteTimer);
      reminders.stop();
      announcer.stop();
      delivery.stop();
      xmpp.reconnect.stop();
      await rooms.leaveAll();
      const { saved } = await store.close();
      // Only changes nobody was told about can be left (acknowledgements follow writes); the lock is released anyway.
      if (!saved) log.warn({ store: config.storage.path }, 'the last changes could not be written at shutdown (never acknowledged)');
      // After the store: the announcement index is a cache of message ids. A write to it stuck on a full disk must
      // not hold the exit (and the store's lock) — at most 2 s, then it is left as it is.
      const closed = await Promise.race([gestures.close().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 2_000).unref())]);
      if (!closed) log.warn('the announcement index did not close in time (a full disk?): left as it is');
      await xmpp.stop().catch(() => undefined);
    },
  };
  return self;
}
