/**
 * JIDs as the server prepares them before comparing (RFC 3920 nodeprep/nameprep, which Prosody and ejabberd still
 * apply): characters "mapped to nothing" removed (stringprep B.1: soft hyphen, zero-width joiners, variation
 * selectors…), full case folding (B.2: `ß` → `ss`, final `ς` → `σ`, `ᾈ` → `ἀι`), then NFKC (fullwidth letters,
 * NFD sequences, ligatures). The bot compares room JIDs in this form, so a room configured or named in NFD, with
 * fullwidth letters or with `ß` is the room the server answers from — and the join is confirmed.
 *
 * Hand-written because no well-kept package does it: @xmpp/jid only lower-cases, node-stringprep needs ICU and a
 * native build, and the PRECIS packages on npm are unmaintained. JavaScript has no case-fold primitive, but upper-
 * then lower-casing each character gives Unicode's full folding except for dotless ı (kept) and final sigma.
 * test/protocol/jid-prep.test.ts holds Prosody 0.12's own nodeprep outputs: over every code point U+00A0–U+2FFFF it
 * accepts, this agrees on all but the ~1,200 that Unicode 3.2 (stringprep's fixed version) did not assign yet, which
 * Prosody leaves as they are and this folds by today's Unicode, and 5 CJK compatibility corrigenda.
 */

/** Stringprep table B.1: commonly mapped to nothing. */
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
const NON_ASCII = /[^\x00-\x7f]/;
const CHAR = /[^\u0131]/gu;

function foldOnce(text: string): string {
  return text
    .replace(MAPPED_TO_NOTHING, '')
    .replace(CHAR, (c) => c.toUpperCase().toLowerCase())
    .replace(/ς/g, 'σ')
    .normalize('NFKC');
}

/** The prepared form of a bare JID (or any JID part) for comparing. ASCII only needs lower-casing (the hot path). */
export function prepareJid(jid: string): string {
  if (!NON_ASCII.test(jid)) return jid.toLowerCase();
  // Twice: NFKC can produce letters that fold again (㎆ → MB → mb), as stringprep's own tables already account for.
  return foldOnce(foldOnce(jid));
}
