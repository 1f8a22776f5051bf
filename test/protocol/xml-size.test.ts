/** xmlLongerThan: the cheap size check a flood of reports goes through before anything is decoded. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import xml from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { parseXml, xmlLongerThan } from '../../src/protocol/xml.js';

const DIR = fileURLToPath(new URL('../fixtures/iodef/', import.meta.url));
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.xml') && !f.includes('v0.4-report.xml'));

describe('xmlLongerThan', () => {
  it.each(fixtures)('%s: agrees with the serialised length within 10 %%', (file) => {
    const parsed = parseXml(readFileSync(`${DIR}${file}`, 'utf8').replace(/^<!--[\s\S]*?-->\s*/, ''));
    if (!parsed.ok) throw new Error(parsed.error.message);
    const length = parsed.value.toString().length;
    expect(xmlLongerThan(parsed.value, Math.floor(length * 0.9))).toBe(true);
    expect(xmlLongerThan(parsed.value, Math.ceil(length * 1.1))).toBe(false);
  });

  it('counts text, attribute values and nested elements', () => {
    const el = xml('report', { xmlns: 'urn:xmpp:incident:2' }, xml('Incident', { purpose: 'x'.repeat(500) }, xml('Description', {}, 'y'.repeat(1000))));
    expect(xmlLongerThan(el, 1500)).toBe(true);
    expect(xmlLongerThan(el, 1700)).toBe(false);
  });

  it('stops early on a giant payload', () => {
    const el = xml('report', {}, ...Array.from({ length: 20_000 }, () => xml('Node', {}, 'z'.repeat(100))));
    expect(xmlLongerThan(el, 65_536)).toBe(true);
  });
});
