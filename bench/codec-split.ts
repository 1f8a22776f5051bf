/** Where decode+validate time goes (for BENCHMARKS.md): `npx tsx bench/codec-split.ts`. */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import parse from 'ltx/lib/parse.js';
import { checkShape, parseXml } from '../src/protocol/xml.js';
import { decodeIodef, findIodefPayload } from '../src/protocol/iodef.js';

const text = readFileSync(new URL('../test/fixtures/iodef/v0.6-report.xml', import.meta.url), 'utf8');
const parsed = parseXml(text);
if (!parsed.ok) throw new Error('fixture does not parse');
const payload = findIodefPayload(parsed.value)!;
const rate = (name: string, fn: () => unknown, n = 5000) => {
  for (let i = 0; i < 1000; i++) fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  console.log(`${name}: ${Math.round((n / (performance.now() - t)) * 1000)}/s`);
};
for (let k = 0; k < 2; k++) {
  rate('raw ltx parse', () => parse(text));
  rate('parseXml (parse + checkShape)', () => parseXml(text));
  rate('checkShape alone', () => checkShape(parsed.value));
  rate('decodeIodef alone (checkShape again + decode)', () => decodeIodef(payload));
}
