/**
 * Reading the XMPP gestures a modern client sends about a room message: a reply (XEP-0461, with its XEP-0428
 * fallback quote), a reaction (XEP-0444), and the ids a message is known by (XEP-0359: the room's stanza-id, the
 * sender's origin-id, the `id` attribute). Pure functions over elements: nothing here trusts what it reads.
 */
import type { Element } from '@xmpp/xml';

export const REPLY_NS = 'urn:xmpp:reply:0';
export const REACTIONS_NS = 'urn:xmpp:reactions:0';
export const FALLBACK_NS = 'urn:xmpp:fallback:0';
export const SID_NS = 'urn:xmpp:sid:0';

/** Longest message id we keep or look up: ids are opaque, but a peer must not make us store megabytes. */
export const MAX_ID_LENGTH = 256;

function usableId(id: unknown): string | undefined {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH ? id : undefined;
}

/** The id of the message this one replies to (XEP-0461), if it is a reply. */
export function replyTarget(stanza: Element): string | undefined {
  return usableId(stanza.getChild('reply', REPLY_NS)?.attrs.id);
}

/**
 * The body without the quote of the replied-to message that XEP-0461 clients prepend for older clients
 * (marked by a XEP-0428 `<fallback for='urn:xmpp:reply:0'><body start end/></fallback>`, in code points). Without
 * such a marker the body is returned as is; a marker out of range is ignored rather than trusted.
 */
export function bodyWithoutReplyFallback(stanza: Element, body: string): string {
  const points = [...body];
  const cuts: Array<[number, number]> = [];
  for (const fallback of stanza.getChildren('fallback', FALLBACK_NS)) {
    if (fallback.attrs.for !== REPLY_NS) continue;
    for (const range of fallback.getChildren('body')) {
      const start = Number(range.attrs.start ?? 0);
      const end = Number(range.attrs.end ?? points.length);
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > points.length || start > end) continue;
      cuts.push([start, end]);
    }
    // A fallback element without a range covers the whole body: nothing of it is the reply itself.
    if (fallback.getChildren('body').length === 0) cuts.push([0, points.length]);
  }
  if (cuts.length === 0) return body;
  const keep = points.map(() => true);
  for (const [start, end] of cuts) for (let i = start; i < end; i++) keep[i] = false;
  return points.filter((_, i) => keep[i]).join('').trim();
}

export interface Reactions {
  /** The id of the message reacted to. */
  id: string;
  /** The sender's whole current set of reactions to it (XEP-0444: each update replaces the previous set). */
  emojis: string[];
}

/** At most this many reactions are read from one stanza. */
const MAX_REACTIONS = 20;

export function reactionsOf(stanza: Element): Reactions | undefined {
  const el = stanza.getChild('reactions', REACTIONS_NS);
  const id = usableId(el?.attrs.id);
  if (!el || !id) return undefined;
  const emojis = el
    .getChildren('reaction')
    .slice(0, MAX_REACTIONS)
    .map((r) => normalizeEmoji(r.text()))
    .filter((e) => e.length > 0);
  return { id, emojis };
}

/** Without variation selectors and surrounding blanks: 👀 and 👀️ are the same tap. */
export function normalizeEmoji(text: string): string {
  return text.replace(/[\uFE0E\uFE0F]/g, '').trim();
}

/** The stanza-id the room stamped on a message (XEP-0359, `by` the room's bare JID), if any. */
export function stanzaIdBy(stanza: Element, by: string): string | undefined {
  for (const el of stanza.getChildren('stanza-id', SID_NS)) {
    if (String(el.attrs.by ?? '').toLowerCase() === by.toLowerCase()) return usableId(el.attrs.id);
  }
  return undefined;
}

/** The sender's own ids for a message: its origin-id (XEP-0359) and its `id` attribute. */
export function ownIdsOf(stanza: Element): string[] {
  const ids = [usableId(stanza.getChild('origin-id', SID_NS)?.attrs.id), usableId(stanza.attrs.id)];
  return [...new Set(ids.filter((id): id is string => id !== undefined))];
}
