/**
 * JID preparation for comparing, against what Prosody 0.12's own nodeprep returns (util.encodings.stringprep,
 * printed once from /usr/lib/prosody on this machine kind; the left column is what a config or a report may say).
 */
import { describe, expect, it } from 'vitest';
import { prepareJid } from '../../src/protocol/jid-prep.js';
import { bareJid } from '../../src/protocol/validate.js';

const PROSODY_NODEPREP: Array<[string, string]> = [
  ['Straße', 'strasse'], // full case folding, not toLowerCase
  ['ΣΑΣ', 'σασ'], // no final sigma
  ['ᾈ', 'ἀι'], // iota subscript folded out
  ['op\u00ADs', 'ops'], // soft hyphen: mapped to nothing
  ['ops\u200B', 'ops'], // zero-width space: mapped to nothing
  ['ＣＡＦÉ', 'café'], // fullwidth
  ['cafe\u0301', 'caf\u00e9'], // NFD
  ['ﬁx', 'fix'], // ligature
  ['İx', 'i\u0307x'],
  ['\u2126', '\u03c9'], // OHM SIGN
  ['㎆x', 'mbx'], // NFKC gives upper case letters: folded again
  ['ı', 'ı'], // dotless i stays
  ['Operators', 'operators'],
];

describe('prepareJid', () => {
  it.each(PROSODY_NODEPREP)('%s → %s, as Prosody prepares it', (written, prepared) => {
    expect(prepareJid(written)).toBe(prepared);
  });

  it('prepares whole bare JIDs, and bareJid drops the resource after preparing', () => {
    expect(bareJid('Straße@Conference.Example.org/Nick')).toBe('strasse@conference.example.org');
    expect(bareJid('ＯＰＳ@conference.example.org')).toBe('ops@conference.example.org');
    expect(bareJid('cafe\u0301@conference.example.org')).toBe(bareJid('CAFÉ@conference.example.org'));
    // Is stable: preparing a prepared JID changes nothing.
    for (const [, prepared] of PROSODY_NODEPREP) expect(prepareJid(prepareJid(prepared))).toBe(prepareJid(prepared));
  });
});
