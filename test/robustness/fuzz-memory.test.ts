/**
 * Memory under a stream of accepted stanzas: what the bot keeps of a stanza must be its own copy, never a slice of
 * the text the stanza was parsed from. A V8 substring keeps its whole parent string alive, so one stored slice of a
 * short value (a history text, an action) keeps the entire stanza (in production: the stream chunk) in memory.
 *
 * Each stanza here is a valid response about the same incident, padded with 100 KB of whitespace outside its
 * payload (the payload stays small, so no size limit refuses it). The bot records every response; keeping slices
 * grows the heap by ~100 KB per stanza, copies by a few hundred bytes.
 *
 * Also: a room join that never completes (a report names a room the server does not answer for) must settle every
 * caller waiting on it; a waiter left pending holds its announcement (and the incident) forever.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { Client } from '../../src/xmpp/connection.js';
import { RoomJoinError, Rooms } from '../../src/xmpp/rooms.js';
import { fuzz } from '../../dev-tools/fuzz.js';

const RESPONSE = fileURLToPath(new URL('../fixtures/iodef/v0.6-response.xml', import.meta.url));

describe('memory under accepted stanzas', () => {
  // Before 1d1c20b the record callbacks of receiveRequest/receiveResponse (src/core/workflow.ts) read the caller's
  // undetached arrival: every stored response and its timeline text was a slice of the stanza (heap +30 MB here).
  it('keeps no stanza text alive: 300 padded responses grow the heap by far less than their 30 MB of text', async () => {
    const response = (await readFile(RESPONSE, 'utf8')).replace(/^<!--[\s\S]*?-->\s*/, '');
    const padded = (n: number) => response.replace(/^(<iq[^>]*>)/, `$1${' '.repeat(100_000)}<!-- ${n} -->`);
    expect(padded(1).length).toBeGreaterThan(100_000);
    // The heap is measured after a full GC at stanza 100 (10 batches of 10) and at the end (400).
    const report = await fuzz(400, 1, { batch: 10, stanzaText: padded });
    expect(report.crashes).toBe(0);
    expect(report.unparseable).toBe(0);
    expect(report.iqsAnswered).toBe(400);
    expect(report.results).toBe(400);
    expect(report.heapAfterMb - report.heapBeforeMb).toBeLessThan(8);
  }, 120_000);
});

describe('room joins that never complete', () => {
  it('a timed-out join rejects every caller waiting on it, not only the first', async () => {
    const sent: string[] = [];
    const fake = Object.assign(new EventEmitter(), {
      send: async (el: { toString(): string }) => void sent.push(el.toString()),
    }) as unknown as Client;
    const rooms = new Rooms(fake, 'bot', silentLogger());
    const waiters = [rooms.join('ops@conference.example', 50), rooms.join('ops@conference.example', 50), rooms.join('ops@conference.example/x', 50)];
    const outcomes = await Promise.race([
      Promise.allSettled(waiters),
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 1_000)),
    ]);
    expect(outcomes).not.toBe('hung');
    expect((outcomes as PromiseSettledResult<void>[]).map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((outcomes as PromiseRejectedResult[]).every((o) => o.reason instanceof RoomJoinError)).toBe(true);
    expect(sent).toHaveLength(1); // one join presence for all three callers
  });

  it('a join whose presence cannot be sent rejects at once, and leaves no timer to reject later', async () => {
    const fake = Object.assign(new EventEmitter(), {
      send: async () => {
        throw new Error('not connected');
      },
    }) as unknown as Client;
    const rooms = new Rooms(fake, 'bot', silentLogger());
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(rooms.join('ops@conference.example', 50)).rejects.toThrow('not connected');
      await new Promise((resolve) => setTimeout(resolve, 200)); // past the join timeout
      expect(unhandled).toEqual([]);
      // Nothing is left pending: the next join sends again instead of waiting on the failed one.
      await expect(rooms.join('ops@conference.example', 50)).rejects.toThrow('not connected');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
