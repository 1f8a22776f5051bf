/**
 * Reading an IODEF tree: elements with their namespaces and indexed children (`At`), lookups (`kids`, `kid`,
 * `grandKids`), and how the decoder says what it refuses (`bad`) or accepts but notes (`odd`, the intake notes).
 */
import { type IodefKind } from './incident.js';
import { DecodeFailure } from './validate.js';
import { Element, nsOf } from './xml.js';
import { INCIDENT_NS, IODEF_KINDS, IODEF_NS, JID_NS, LEGACY_NS } from './iodef-vocabulary.js';

/** At most this many intake notes per document: a document odd everywhere is summed up, not copied. */
export const MAX_INTAKE_NOTES = 20;
/** The incident:2 wrapper (or a v0.4 bare Incident) among an IQ's children; undefined if none. */
export function findIodefPayload(iq: Element): Element | undefined {
  for (const child of iq.children) {
    if (child instanceof Element && isIodefPayload(child)) return child;
  }
  return undefined;
}

export function isIodefPayload(el: Element): boolean {
  const name = el.getName();
  return (isKind(name) && nsOf(el) === INCIDENT_NS) || (name === 'Incident' && nsOf(el) === IODEF_NS);
}

/**
 * An element being decoded, with what child lookups need so that they do not recompute it on every lookup: its
 * namespaces and its child elements grouped by local name. Its path from the decoded root (for error messages)
 * is only spelled out when a message needs it.
 */
export class At {
  /** Child elements by local name, in document order; built on the first lookup (the tree is not modified). */
  byName: Map<string, readonly At[]> | undefined = undefined;

  constructor(
    readonly el: Element,
    /** nsOf(el). */
    readonly ns: string | undefined,
    /** el.findNS(): the default namespace of its children that declare none. */
    readonly scopeNs: string | undefined,
    private readonly up: At | undefined,
    /** What the lookup that found it found (itself included): its position, when there are several. */
    private readonly found: readonly At[] | undefined,
  ) {}

  static root(el: Element): At {
    return new At(el, knownNs(nsOf(el)), knownNs(el.findNS() || undefined), undefined, undefined);
  }

  /** Such as `report/Incident/EventData/Flow/System[2]`: a position only when there are several, as in the XML. */
  get path(): string {
    const name = this.el.getName();
    const found = this.found;
    const here = found !== undefined && found.length > 1 ? `${name}[${found.indexOf(this) + 1}]` : name;
    return this.up === undefined ? here : `${this.up.path}/${here}`;
  }
}

export function bad(path: string, message: string): never {
  throw new DecodeFailure(path, message);
}

/** The document being decoded: its intake notes, and the sender's domain. */
export let intake: { notes: string[]; dropped: number; senderDomain: string | undefined } = { notes: [], dropped: 0, senderDomain: undefined };

/** Starts the notes of a new document (decoding is synchronous: one document at a time). */
export function beginIntake(senderDomain: string | undefined): void {
  intake = { notes: [], dropped: 0, senderDomain };
}

/** The notes of the document just decoded, with a count of those beyond the limit. */
export function intakeNotes(): string[] {
  if (intake.dropped > 0) intake.notes.push(`… and ${intake.dropped} more oddities`);
  return intake.notes;
}

/** The sender's domain, for an IncidentID without name. */
export function intakeSenderDomain(): string | undefined {
  return intake.senderDomain;
}

/**
 * Something odd that a real peer sends and that does not stop us understanding the report: accepted, and noted.
 * The path drops the wrapper (`report/`), which says nothing.
 */
export function odd(at: At, message: string): void {
  if (intake.notes.length >= MAX_INTAKE_NOTES) {
    intake.dropped += 1;
    return;
  }
  const path = at.path;
  const slash = path.indexOf('/');
  intake.notes.push(`${slash === -1 ? path : path.slice(slash + 1)}: ${message}`);
}

export function safeName(el: unknown): string {
  return el instanceof Element ? el.getName() : '/';
}

export function isKind(name: string): name is IodefKind {
  return (IODEF_KINDS as readonly string[]).includes(name);
}

/** For kids(): accept a child in whatever namespace (sloppy legacy-style content). */
export const ANY_NS = null;

/** Which namespaces kids() accepts: one, any of a list, or any at all. */
export type NsFilter = string | readonly string[] | typeof ANY_NS;

/**
 * Child elements named `name` in namespace `ns` (IODEF by default, any with ANY_NS), in document order.
 * Read-only: usually the very list the parent's index holds.
 */
export function kids(parent: At, name: string, ns: NsFilter = IODEF_NS): readonly At[] {
  const named = childrenByName(parent).get(name);
  if (named === undefined) return NONE;
  if (ns === ANY_NS || allInNamespace(named, ns)) return named;
  // Some are in another namespace: the others are numbered among themselves in paths.
  const found: At[] = [];
  for (const at of named) {
    if (inNamespace(at, ns)) found.push(new At(at.el, at.ns, at.scopeNs, parent, found));
  }
  return found;
}

export const NONE: readonly At[] = [];

export function kid(parent: At, name: string, ns: NsFilter = IODEF_NS): At | undefined {
  return kids(parent, name, ns)[0];
}

/**
 * The `grandName` children of every `name` child, in document order (every Service/Port of a System, say).
 * A loop rather than flatMap: V8's flatMap costs about ten times as much on these small arrays.
 */
export function grandKids(
  parent: At,
  name: string,
  grandName: string,
  grandNs: NsFilter = IODEF_NS,
  ns: NsFilter = IODEF_NS,
): At[] {
  const result: At[] = [];
  for (const child of kids(parent, name, ns)) {
    for (const grandChild of kids(child, grandName, grandNs)) result.push(grandChild);
  }
  return result;
}

export function inNamespace(at: At, ns: string | readonly string[]): boolean {
  return typeof ns === 'string' ? at.ns === ns : ns.includes(at.ns ?? '');
}

export function allInNamespace(ats: readonly At[], ns: string | readonly string[]): boolean {
  for (const at of ats) if (!inNamespace(at, ns)) return false;
  return true;
}

/** The child elements of `parent` by local name, in document order: one pass over the children per element. */
export function childrenByName(parent: At): Map<string, readonly At[]> {
  if (parent.byName !== undefined) return parent.byName;
  const byName = new Map<string, At[]>();
  for (const child of parent.el.children) {
    // The same test as Element#getChildElements: text (strings, numbers) is not an element.
    if (!(child instanceof Element)) continue;
    const name = child.getName();
    let named = byName.get(name);
    if (named === undefined) byName.set(name, (named = []));
    named.push(childAt(parent, child, named));
  }
  parent.byName = byName;
  return byName;
}

/**
 * A child with its namespaces, without walking up the ancestors again as nsOf() would: an unprefixed child
 * without its own xmlns is in the parent's default namespace. Prefixed names, and elements whose parent pointer
 * is not the element we came from (a tree assembled by hand), are looked up the ltx way.
 */
export function childAt(parent: At, el: Element, found: readonly At[]): At {
  if (el.parent !== parent.el) return new At(el, knownNs(nsOf(el)), knownNs(el.findNS() || undefined), parent, found);
  const own: unknown = el.attrs.xmlns;
  const scopeNs = own ? knownNs(own as string) : parent.scopeNs;
  const ns = el.name.includes(':') ? knownNs(nsOf(el)) : scopeNs;
  return new At(el, ns, scopeNs, parent, found);
}

/**
 * The namespaces the decoder compares with, keyed by themselves. A parsed xmlns is a slice of the stanza text:
 * swapping it for the equal constant once lets every later comparison succeed on identity instead of comparing
 * characters (about a tenth of the decode time in a profile).
 */
export const KNOWN_NAMESPACES = new Map([IODEF_NS, INCIDENT_NS, JID_NS, LEGACY_NS].map((ns) => [ns, ns]));

export function knownNs(ns: string | undefined): string | undefined {
  return ns === undefined ? undefined : (KNOWN_NAMESPACES.get(ns) ?? ns);
}

export function attr(at: At, name: string): string | undefined {
  const value: unknown = at.el.attrs[name];
  return typeof value === 'string' ? value : undefined;
}
