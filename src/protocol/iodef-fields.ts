/**
 * IODEF field readers shared by the decoders: enumerated attributes with the extension mechanism, dates, language
 * tags, localized texts and JIDs. Each accepts what a real peer sends and notes (`odd`) what was odd.
 */
import { type LocalizedText } from './incident.js';
import { checkDateTime, checkJid, clip } from './validate.js';
import { textOf } from './xml.js';
import { INCIDENT_NS, IODEF_NS, JID_NS } from './iodef-vocabulary.js';
import { At, attr, grandKids, kids, odd } from './iodef-reader.js';

/**
 * An enumerated attribute with IODEF's extension mechanism resolved. RFC 5070 writes `attr='ext-value'` plus
 * `ext-<attr>='name'`; XEP-0268's examples instead name the attribute that holds the extension
 * (`category='ext-category' ext-category='xmpp'`, `role='ext-type' ext-type='chatroom'`). Both are understood.
 * `extension` tells whether the value is an extension name (free) or a plain value (must be a known one).
 */
export interface EnumValue {
  value: string;
  extension: boolean;
}

export function resolveEnum(at: At, name: string): EnumValue | { error: string } | undefined {
  const value = attr(at, name);
  if (value === undefined) return undefined;
  const holder = value === 'ext-value' ? `ext-${name}` : value.startsWith('ext-') ? value : undefined;
  if (holder === undefined) return { value, extension: false };
  const ext = attr(at, holder)?.trim();
  if (ext) return { value: ext, extension: true };
  if (value === 'ext-value') return { error: `${name}='ext-value' needs a non-empty ext-${name} attribute` };
  return { value, extension: false }; // an 'ext-…' value without a matching attribute: judged as a plain value
}

/** An extension value without its name (`type='ext-value'` and no `ext-type`, which RFC 5070 allows) is noted, and
 * read as if the attribute were absent. */
export function enumAttr(at: At, name: string): EnumValue | undefined {
  const resolved = resolveEnum(at, name);
  if (resolved && 'error' in resolved) {
    odd(at, `${name}='ext-value' without ext-${name}`);
    return undefined;
  }
  return resolved;
}

/**
 * An enumerated attribute whose plain values are a closed list (extensions stay free). A value outside it is
 * kept as an extension and noted: an odd spelling loses nothing.
 */
export function closedEnum(at: At, name: string, allowed: readonly string[]): string | undefined {
  const resolved = enumAttr(at, name);
  if (resolved && !resolved.extension && !allowed.includes(resolved.value)) {
    odd(at, `${name} '${clip(resolved.value)}' is not one of ${allowed.join(', ')}: kept as an extension`);
  }
  return resolved?.value;
}

/** A time that is not XEP-0082 is kept as text in the intake notes, and not used (nor ordered by, nor sent on). */
export function dateTime(at: At): string | undefined {
  const value = textOf(at.el);
  const problem = checkDateTime(value);
  if (problem) {
    odd(at, `${problem}: kept here as text, not used`);
    return undefined;
  }
  return value;
}

/** A loose BCP 47 shape (underscores tolerated): enough to keep markup and junk out of a language field. */
export const LANGUAGE_TAG = /^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$/;

export function language(at: At, name: string): string | undefined {
  const lang = attr(at, name)?.trim();
  if (!lang) return undefined;
  if (!LANGUAGE_TAG.test(lang)) {
    odd(at, `${name} '${clip(lang)}' is not a language tag: ignored`);
    return undefined;
  }
  return lang;
}

/**
 * A text with its language. XEP-0268 writes xml:lang; RFC 5070's MLStringType spells it `lang`, so a peer
 * following the RFC is understood too (we send xml:lang, as the XEP does).
 */
export function localized(at: At): LocalizedText | undefined {
  const text = textOf(at.el);
  if (!text) return undefined;
  const lang = language(at, 'xml:lang') ?? language(at, 'lang');
  return lang === undefined ? { text } : { text, lang };
}

/** Description elements; empty ones carry nothing and are skipped. */
export function descriptions(parent: At): LocalizedText[] {
  return localizedTexts(kids(parent, 'Description'));
}

/** The non-empty texts among `elements`, in order. */
export function localizedTexts(elements: readonly At[]): LocalizedText[] {
  const texts: LocalizedText[] = [];
  for (const at of elements) {
    const text = localized(at);
    if (text !== undefined) texts.push(text);
  }
  return texts;
}

/** A JID that is not one is noted and left out (undefined). */
export function jidText(at: At): string | undefined {
  const value = textOf(at.el);
  const problem = checkJid(value);
  if (problem) {
    odd(at, `${problem}; left out`);
    return undefined;
  }
  return value;
}

/**
 * The XEP's `<jid/>` under Contact/AdditionalData: urn:xmpp:jid:0 since v0.6, urn:xmpp:incident:2 in v0.4, and —
 * as Metronome sends it — no namespace of its own (so the IODEF one), or none at all.
 */
export const CONTACT_JID_NAMESPACES = [JID_NS, INCIDENT_NS, IODEF_NS, ''];

/** Every jid of a Contact, each checked. */
export function contactJids(contact: At): string[] {
  const jids: string[] = [];
  for (const at of grandKids(contact, 'AdditionalData', 'jid', CONTACT_JID_NAMESPACES)) {
    const jid = jidText(at);
    if (jid !== undefined) jids.push(jid);
  }
  return jids;
}

