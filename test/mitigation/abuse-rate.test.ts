/** A flood of abuse reports meets the same per-sender and per-domain limits as incident reports. */
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { IncidentStore } from '../../src/core/store.js';
import { silentLogger } from '../../src/log.js';
import { routeAbuseReports } from '../../src/mitigation/abuse-route.js';
import type { Client } from '../../src/xmpp/connection.js';
import { abuseReportMessage } from '../../dev-tools/peers.js';

let store: IncidentStore | undefined;
afterEach(async () => {
  await store?.close();
});

describe('abuse reports under a flood', () => {
  it('beyond the burst, reports from one sender are dropped and counted, not stored', async () => {
    store = await IncidentStore.open(join(mkdtempSync(join(tmpdir(), 'abuse-rate-')), 'incidents.json'));
    const config = parseConfig({
      xmpp: { service: 'xmpp://127.0.0.1:5222', domain: 'home.example', username: 'bot', password: 'x' },
      rooms: { default: 'ops@conference.home.example' },
      peers: [{ jid: 'peer.example', trust: 'trusted' }],
      storage: { path: 'x.json' },
      limits: { burst: 3, reportsPerMinute: 1 },
    });
    const xmpp = new EventEmitter() as unknown as Client;
    const counts = new Map<string, number>();
    routeAbuseReports({ xmpp, config, store, log: silentLogger(), count: (e) => counts.set(e, (counts.get(e) ?? 0) + 1), announce: () => undefined });
    for (let i = 0; i < 10; i++) {
      const message = abuseReportMessage('bot@home.example', `spammer${i}@evil.example`, `spam ${i}`);
      message.attrs.from = 'peer.example';
      (xmpp as unknown as EventEmitter).emit('stanza', message);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(counts.get('received-abuse-report')).toBe(3);
    expect(counts.get('rejected-rate-limit')).toBe(7);
    expect(store.size).toBe(3);
  });
});
