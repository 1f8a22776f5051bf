/**
 * Child process for the start-up figure of bench/run.ts: opens a store in a fresh process and prints one JSON
 * line: IncidentStore.open time, RSS before and after, and how many incidents it holds.
 */
import { performance } from 'node:perf_hooks';
import { IncidentStore } from '../src/core/store.js';

const [path] = process.argv.slice(2);
if (!path) {
  console.error('usage: open-store.ts FILE');
  process.exit(2);
}
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
const store = await IncidentStore.open(path);
const size = store.size;
const ms = performance.now() - t0;
const rssAfter = process.memoryUsage().rss;
await store.close();
console.log(JSON.stringify({ ms, rssBefore, rssAfter, size }));
