/**
 * Safe XML helpers for the codecs: parsing hostile text without throwing, and bounding the shape of an element
 * tree (depth, element count, text size) before a decoder walks it recursively.
 */
import { Element } from '@xmpp/xml';
import parse from 'ltx/lib/parse.js';
import { fail, ok, type Decoded } from './validate.js';

export { Element };

export interface ShapeLimits {
  /** Deepest element nesting accepted (the stanza itself is depth 1). */
  maxDepth: number;
  /** Most elements in one tree. */
  maxElements: number;
  /** Longest single text node, in characters. */
  maxTextLength: number;
}

export const DEFAULT_LIMITS: ShapeLimits = { maxDepth: 24, maxElements: 5000, maxTextLength: 16 * 1024 };

/** Parses one XML element from text. Never throws: malformed, truncated or oversized input is an error. */
export function parseXml(text: string, limits: ShapeLimits = DEFAULT_LIMITS): Decoded<Element> {
  const maxChars = limits.maxElements * 256 + limits.maxTextLength * 4;
  if (text.length > maxChars) return fail('/', `document too large (${text.length} characters)`);
  let root: unknown;
  try {
    root = parse(text);
  } catch (err) {
    return fail('/', `not well-formed XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!(root instanceof Element)) return fail('/', 'not well-formed XML: no root element');
  const shape = checkShape(root, limits);
  return shape ? fail(shape.path, shape.message) : ok(root);
}

/**
 * Walks the tree iteratively (so hostile nesting cannot overflow the stack) and reports the first limit broken.
 * A stack entry links to its parent's entry rather than carrying its path: the path is spelled out only for the
 * element that breaks a limit.
 */
export function checkShape(root: Element, limits: ShapeLimits = DEFAULT_LIMITS): ShapeProblem | undefined {
  const stack: ShapeEntry[] = [{ el: root, depth: 1, up: undefined }];
  let count = 0;
  while (stack.length > 0) {
    const entry = stack.pop()!;
    const { el, depth } = entry;
    count += 1;
    if (count > limits.maxElements) return problem(entry, `too many elements (more than ${limits.maxElements})`);
    if (depth > limits.maxDepth) return problem(entry, `nested too deeply (more than ${limits.maxDepth} levels)`);
    for (const child of el.children) {
      if (typeof child === 'string') {
        if (child.length > limits.maxTextLength) {
          return problem(entry, `text too long (${child.length} characters, at most ${limits.maxTextLength})`);
        }
      } else if (child instanceof Object && 'name' in child) {
        stack.push({ el: child as Element, depth: depth + 1, up: entry });
      }
    }
  }
  return undefined;
}

export interface ShapeProblem {
  path: string;
  message: string;
}

interface ShapeEntry {
  el: Element;
  depth: number;
  up: ShapeEntry | undefined;
}

/** The path is `root/child/grandchild`: element names as written (with any prefix) from the root down. */
function problem(entry: ShapeEntry, message: string): ShapeProblem {
  let path = entry.el.name;
  for (let at = entry.up; at !== undefined; at = at.up) path = `${at.el.name}/${path}`;
  return { path, message };
}

/** The namespace of an element, inherited from its parents when it declares none. */
export function nsOf(el: Element): string | undefined {
  return el.getNS() || undefined;
}

/** Child elements with a local name, optionally in a namespace (the parent's own when undeclared). */
export function childrenNamed(el: Element, name: string, ns?: string): Element[] {
  return el.getChildElements().filter((c) => c.getName() === name && (ns === undefined || nsOf(c) === ns));
}

export function firstChild(el: Element, name: string, ns?: string): Element | undefined {
  return childrenNamed(el, name, ns)[0];
}

/** The concatenated direct text of an element, trimmed. */
export function textOf(el: Element): string {
  return el.getText().trim();
}

/**
 * Whether an element's XML would exceed `max` characters, counted without serialising it: names, attributes and
 * text, as `toString()` would write them before escaping. Stops counting as soon as the limit is passed, so a giant
 * payload costs no more than a normal one.
 */
export function xmlLongerThan(root: Element, max: number): boolean {
  let size = 0;
  const stack: Array<Element | string> = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (typeof node === 'string') {
      size += node.length;
    } else {
      size += 2 * node.name.length + 5; // <name>…</name>
      for (const key in node.attrs) {
        const value = node.attrs[key] as unknown;
        if (value !== undefined && value !== null) size += key.length + String(value).length + 4; // ␠key="value"
      }
      for (const child of node.children) stack.push(child as Element | string);
    }
    if (size > max) return true;
  }
  return false;
}
