/**
 * What the store's indexes hold about an incident, derived from its record (pure: no database here).
 *
 * - facets: [name, value] pairs that `list` filters on and whose counts `stats` shows — state, severity, trust,
 *   the reporting peer and its domain, and the sources of an incident that is not resolved (issue 14 groups
 *   abuse reports by reported JID). A new filter (issue 15: owner) is one more line in facetsOf() and a bump of
 *   INDEX_VERSION: the store rebuilds its indexes from the records when it opens.
 * - terms: the words `search` finds, each tagged with what it is: `i:` an IP address, `j:` a bare JID, `d:` a
 *   domain (a JID's domain and its parent domains, so `example.org` finds `muc.example.org`), `w:` a word.
 */
import type { Incident, NetworkNode } from '../protocol/incident.js';
import { bareJid, parseIp } from '../protocol/validate.js';
import type { StoredIncident, TriageState } from './stored-incident.js';

/** Bump when facetsOf/termsOf change: every index is rebuilt from the records at the next open. */
export const INDEX_VERSION = 3;

/** Terms kept per incident at most (addresses and identities first, then words in the order they appear). */
export const MAX_TERMS = 300;
/** Longer index values are cut (the index finds candidates; what is shown always comes from the record). */
const MAX_VALUE = 200;
const MIN_WORD = 2;
const MAX_WORD = 64;

export type FacetName = 'state' | 'severity' | 'trust' | 'peer' | 'domain' | 'open-source' | 'owner';
export type Facet = readonly [FacetName, string];

export interface IndexEntries {
  facets: Facet[];
  terms: string[];
  /** The incident id, lower-cased (UUID prefix lookups, `Related:` numbers). */
  id: string;
}

export function indexEntriesOf(stored: StoredIncident): IndexEntries {
  return { facets: facetsOf(stored), terms: termsOf(stored), id: clipValue(stored.incident.id.toLowerCase()) };
}

export function facetsOf(stored: StoredIncident): Facet[] {
  const i = stored.incident;
  const peer = bareJid(stored.from);
  const facets: Facet[] = [
    ['state', stored.state],
    ['severity', i.severity === undefined ? '?' : String(i.severity)],
    ['trust', stored.trusted ? 'trusted' : 'untrusted'],
    ['peer', clipValue(peer)],
    ['domain', clipValue(domainPart(peer))],
    // '-' is "nobody": `!list unowned` is a facet like any other.
    ['owner', i.owner === undefined ? NO_OWNER : clipValue(bareJid(i.owner))],
  ];
  if (stored.state !== 'resolved') {
    for (const jid of new Set(sourceJids(i.sources))) facets.push(['open-source', clipValue(jid)]);
  }
  return facets;
}

/** The owner facet's value for an incident nobody owns. */
export const NO_OWNER = '-';

export const STATES: readonly TriageState[] = ['open', 'acked', 'resolved'];

function sourceJids(nodes: readonly NetworkNode[]): string[] {
  return nodes.flatMap((n) => n.addresses.flatMap((a) => (a.kind === 'jid' ? [bareJid(a.value)] : [])));
}

/** Every search term of an incident, addresses and identities first, at most MAX_TERMS. */
export function termsOf(stored: StoredIncident): string[] {
  const i = stored.incident;
  const terms = new Set<string>();
  const add = (term: string) => {
    if (terms.size < MAX_TERMS) terms.add(term);
  };
  const nodes = [...i.sources, ...i.targets, ...i.solutions.flatMap((s) => s.sources)];
  for (const node of nodes) {
    for (const a of node.addresses) {
      if (a.kind === 'ip') add(`i:${normalIp(a.value)}`);
      else if (a.kind === 'jid') addJid(a.value, add);
      else add(`w:${clipValue(a.value.toLowerCase())}`);
    }
  }
  addJid(stored.from, add);
  for (const admin of i.admins) addJid(admin, add);
  if (i.site) addDomain(i.site.toLowerCase(), add);
  addId(i.id.toLowerCase(), add);
  for (const text of textsOf(i)) addWords(text, add);
  return [...terms];
}

function textsOf(i: Incident): string[] {
  return [
    i.category ?? '',
    ...i.types,
    ...i.texts.map((t) => t.text),
    ...i.solutions.flatMap((s) => s.texts.map((t) => t.text)),
    ...i.history.flatMap((h) => h.texts.map((t) => t.text)),
    ...(i.expectation?.texts.map((t) => t.text) ?? []),
  ];
}

function addJid(jid: string, add: (term: string) => void): void {
  const bare = bareJid(jid);
  if (!bare) return;
  add(`j:${clipValue(bare)}`);
  const at = bare.indexOf('@');
  if (at > 0) add(`w:${clipValue(bare.slice(0, at))}`);
  addDomain(domainPart(bare), add);
}

/** The id as a word; a UUID also by its first group (the short form people quote), any other id by its parts. */
function addId(id: string, add: (term: string) => void): void {
  add(`w:${clipValue(id)}`);
  if (UUID.test(id)) addWord(id.slice(0, 8), add);
  else for (const part of id.matchAll(WORD)) addWord(part[0], add);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A domain and each parent with at least two labels (muc.example.org → muc.example.org, example.org), and its
 * labels as words ("search shady" finds shady.example).
 */
function addDomain(domain: string, add: (term: string) => void): void {
  if (!domain) return;
  add(`d:${clipValue(domain)}`);
  for (const label of domain.matchAll(WORD)) addWord(label[0], add);
  let d = domain;
  for (let dot = d.indexOf('.'); dot !== -1; dot = d.indexOf('.')) {
    d = d.slice(dot + 1);
    if (!d.includes('.')) break;
    add(`d:${clipValue(d)}`);
  }
}

// A JID, an IPv4 address, a dotted domain, or a word (letters and digits, possibly joined by - or _) in free text.
const TOKEN = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+|\d{1,3}(?:\.\d{1,3}){3}|[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+|[\p{L}\p{N}_-]+/gu;
const WORD = /[\p{L}\p{N}]+/gu;
const COMPOUND = /^[\p{L}\p{N}_-]+$/u;
const DOMAIN = /^[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+$/u;

function addWords(text: string, add: (term: string) => void): void {
  for (const match of text.toLowerCase().matchAll(TOKEN)) {
    const token = match[0];
    if (token.includes('@')) {
      addJid(token, add);
    } else if (token.includes('.')) {
      const ip = parseIp(token);
      if (typeof ip !== 'string') add(`i:${normalIp(ip.value)}`);
      else addDomain(token.replace(/^[.-]+|[.-]+$/g, ''), add);
    } else {
      // "brute-force", "INC_42": the whole token is a word, and so is each part.
      addWord(token.replace(/^[_-]+|[_-]+$/g, ''), add);
      if (!/[_-]/.test(token)) continue;
    }
    // The words inside a JID, address, domain or compound are words too ("search spammer" finds spammer@abuse.lit).
    for (const part of token.matchAll(WORD)) addWord(part[0], add);
  }
}

function addWord(word: string, add: (term: string) => void): void {
  if (word.length >= MIN_WORD && word.length <= MAX_WORD) add(`w:${word}`);
}

/**
 * What a search query looks for: one term per token, all of which must match (AND). An IP is looked up as an
 * address, `x@y` as a JID, `a.b` as a domain (which also finds its subdomains and the JIDs at them), anything
 * else as a word; tokens shorter than two characters are left out.
 */
export function queryTerms(query: string): string[] {
  const terms: string[] = [];
  for (const raw of query.trim().toLowerCase().split(/\s+/)) {
    const token = raw.replace(/^[("'<[]+|[)"'>\],;:!?.]+$/g, '');
    if (!token) continue;
    const ip = parseIp(token);
    if (typeof ip !== 'string') terms.push(`i:${normalIp(ip.value)}`);
    else if (token.includes('@') || token.includes('/')) terms.push(`j:${clipValue(bareJid(token))}`);
    else if (DOMAIN.test(token)) terms.push(`d:${clipValue(token)}`);
    else if (COMPOUND.test(token)) {
      const word = token.replace(/^[_-]+|[_-]+$/g, '');
      if (word.length >= MIN_WORD) terms.push(`w:${clipValue(word)}`);
    } else {
      for (const m of token.matchAll(WORD)) if (m[0].length >= MIN_WORD) terms.push(`w:${clipValue(m[0])}`);
    }
  }
  return [...new Set(terms)];
}

/** IPv6 has many spellings of one address: the index and queries use the canonical one (RFC 5952). */
export function normalIp(value: string): string {
  if (!value.includes(':')) return value;
  try {
    return new URL(`http://[${value}]/`).hostname.slice(1, -1);
  } catch {
    return value.toLowerCase();
  }
}

function domainPart(bare: string): string {
  const at = bare.indexOf('@');
  return at === -1 ? bare : bare.slice(at + 1);
}

function clipValue(value: string): string {
  return value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) : value;
}
