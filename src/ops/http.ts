/**
 * The optional HTTP endpoint (config `http.listen`, off by default, loopback unless the operator says otherwise):
 * `/metrics` for Prometheus, `/healthz` for systemd, Docker and orchestrators — 200 only when the bot is connected,
 * in its default room and can write its store, else 503 with a one-line reason.
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { BotMetrics } from './metrics.js';

export interface HealthSources {
  online(): boolean;
  defaultRoom(): { room: string; joined: boolean; lastError?: string };
  store(): { ok: true } | { ok: false; problem: string };
}

/** Why the bot is not healthy, or undefined when it is. */
export function unhealthyBecause(sources: HealthSources): string | undefined {
  if (!sources.online()) return 'not connected to the XMPP server';
  const room = sources.defaultRoom();
  if (!room.joined) return `not in the default room ${room.room}${room.lastError ? ` (${room.lastError})` : ''}`;
  const store = sources.store();
  if (!store.ok) return `the store cannot write: ${store.problem}`;
  return undefined;
}

/** `host:port`, `[v6]:port`. */
export function parseListen(listen: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2])!, port };
}

export async function startHttp(listen: string, metrics: BotMetrics, health: HealthSources, log: Logger): Promise<Server> {
  const { host, port } = parseListen(listen)!;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
        .catch((err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`));
    } else if (path === '/healthz') {
      const why = unhealthyBecause(health);
      res.writeHead(why ? 503 : 200, { 'content-type': 'text/plain; charset=utf-8' }).end(`${why ?? 'ok'}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  log.info({ listen: typeof address === 'object' && address ? `${address.address}:${address.port}` : listen }, 'metrics and health on HTTP');
  return server;
}
