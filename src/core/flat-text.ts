/**
 * The one way peer-supplied text gets into a chat line: flattened, so it can neither start a line of its own (a fake
 * `#999 NEW incident…` under the bot's name) nor reorder or hide what surrounds it.
 *
 * What `flat()` removes, decided once for every room line and direct message the bot writes:
 * - every character that breaks a line in some client: all of Unicode's controls (\p{Cc}: CR, LF, VT, FF, the C1
 *   controls with NEL U+0085, the information separators U+001C–U+001F), the line separator U+2028 (\p{Zl}) and the
 *   paragraph separator U+2029 (\p{Zp}) — each becomes a space;
 * - every format character (\p{Cf}): the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and
 *   marks (U+200E, U+200F, U+061C) that make text display in another order than it is written, the invisible ones
 *   (U+FEFF, U+2060–U+2064, soft hyphen, tags U+E0000–U+E007F, …) — removed; only the zero-width (non-)joiners
 *   U+200C/U+200D stay, which emoji sequences and several scripts need and which cannot break or reorder a line;
 * - a lone UTF-16 surrogate (\p{Cs}, what a string cut inside a character leaves) — becomes U+FFFD;
 * then runs of white space become one space (and flat() trims the ends).
 *
 * Lines are built with the `line` template, which flattens every value it interpolates: a value cannot be forgotten,
 * only the template's own literal text (the bot's words) reaches the room unflattened. A message of several lines
 * joins such lines with `\n`, the only line break a bot message contains.
 */

/** Everything flat() takes out: separators and controls become a space, format characters and lone surrogates go. */
const BREAKING = /[\p{Cc}\p{Zl}\p{Zp}]/gu;
const HIDDEN = /(?![\u200c\u200d])\p{Cf}/gu;
const LONE_SURROGATE = /\p{Cs}/gu;
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}\p{Cf}\p{Cs}]|\s\s|[^\S ]/u;

/** Peer text made safe for one line of a chat message, trimmed; clipped to `max` characters with `…` when longer. */
export function flat(text: string, max = Number.POSITIVE_INFINITY): string {
  const out = unbreak(text).trim();
  return out.length > max ? `${cutAt(out, max)}…` : out;
}

/**
 * flat() without the trim: what the `line` template does to a plain value, so the bot's own pieces keep their
 * spacing (`${flag}` = ' ⚠ UNTRUSTED'); a peer's leading or trailing blanks are collapsed to one space.
 */
function unbreak(text: string): string {
  // Most values (JIDs, ids, short texts) are clean already: one scan instead of four replacements.
  if (!UNSAFE.test(text)) return text;
  return text.replace(BREAKING, ' ').replace(HIDDEN, '').replace(LONE_SURROGATE, '\ufffd').replace(/\s+/g, ' ');
}

/** The first `max` UTF-16 units of a string, one less when that would cut a character in two. */
export function cutAt(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = max > 0 && isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** A value clipped to `max` characters (then flattened like every value) where the template puts it. */
export class Clipped {
  constructor(
    readonly value: string,
    readonly max: number,
  ) {}
}

/** `clip(text, 80)` inside a `line` template: at most 80 characters of it. */
export function clip(value: string, max: number): Clipped {
  return new Clipped(value, max);
}

export type LineValue = string | number | Clipped | undefined | null;

/**
 * A tagged template for one line of a chat message: every interpolated value is flattened (and clipped when wrapped
 * in `clip()`); `undefined`/`null` are left out. Nested lines are flat already and pass through unchanged.
 */
export function line(strings: TemplateStringsArray, ...values: LineValue[]): string {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value instanceof Clipped) out += flat(value.value, value.max);
    else if (value !== undefined && value !== null) out += unbreak(String(value));
    out += strings[i + 1]!;
  }
  return out;
}

export interface FoldOptions {
  /** Items shown before "… and N more". */
  max: number;
  /** Characters of each item shown. */
  each: number;
  /** Between items; default ', '. */
  separator?: string;
}

/** A list on one line: the first `max` items, each flattened and clipped, then "… and N more" for the rest. */
export function foldList(items: readonly string[], opts: FoldOptions): string {
  const shown = items.slice(0, opts.max).map((item) => flat(item, opts.each));
  const more = items.length - shown.length;
  return `${shown.join(opts.separator ?? ', ')}${more > 0 ? ` … and ${more} more` : ''}`;
}

/** Line breaks other than `\n`, controls and format characters: what no message body of the bot carries. */
const BODY_UNSAFE = /[\p{Zl}\p{Zp}\p{Cs}]|(?![\n\t])\p{Cc}|(?![\u200c\u200d])\p{Cf}/u;
const BODY_BREAKING = /[\p{Zl}\p{Zp}]|(?![\n\t])\p{Cc}/gu;

/**
 * The second, last line of defence, applied by the send path to every message body (stanza-guard.ts): `\n` stays
 * the only line break and nothing reorders the text, even in a body that was not built with `line` (an export, an
 * error message). It cannot tell the bot's `\n` from a peer's, which is why lines are built with `line`.
 */
export function safeBody(text: string): string {
  if (!BODY_UNSAFE.test(text)) return text;
  return text.replace(BODY_BREAKING, ' ').replace(HIDDEN, '').replace(LONE_SURROGATE, '\ufffd');
}
