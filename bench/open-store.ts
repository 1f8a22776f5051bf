/**
 * Child process for the start-up figure of bench/run.ts: opens a store file in a fresh process and prints one JSON
 * line. `store` mode: IncidentStore.open time and RSS before/after; `json` mode: the floor (readFile + JSON.parse of
 * the store's checkpoint, the index that open has to read).
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { IncidentStore } from '../src/core/store.js';

const [path, mode] = process.argv.slice(2);
if (!path || (mode !== 'store' && mode !== 'json')) {
  console.error('usage: open-store.ts FILE store|json');
  process.exit(2);
}
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
let size: number;
if (mode === 'store') {
  const store = await IncidentStore.open(path);
  size = store.size;
} else {
  const data = JSON.parse(await readFile(path, 'utf8')) as { index: unknown[] };
  size = data.index.length;
}
const ms = performance.now() - t0;
const rssAfter = process.memoryUsage().rss;
console.log(JSON.stringify({ ms, rssBefore, rssAfter, size }));
