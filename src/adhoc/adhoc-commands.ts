/**
 * The ad-hoc commands (XEP-0050) the bot offers, as forms in front of the text commands: each builds its form from
 * the store and the configuration (open incidents and trusted peers as choices) and turns a submission into the
 * text command line it stands for. That line then runs through the same dispatcher, rights and workflow as one
 * typed by an admin (src/adhoc/adhoc.ts): one implementation, two front ends.
 *
 * Adding one: an entry in ADHOC_COMMANDS (or nothing at all for a command whose synopsis starts with `<ref>`, such as
 * a future `!block`: `genericRefCommand` offers it as soon as it is declared, see `adhocCommandsFor`).
 */
import { flat } from '../core/flat-text.js';
import type { TriageState } from '../core/store.js';
import { listLine } from '../../commands/_shared.js';
import type { CommandSpec } from '../triage/command.js';
import type { TriageServices } from '../triage/context.js';
import { findCommand } from '../triage/dispatch.js';
import type { Form, FormField, Submitted } from './data-form.js';

export interface AdhocCommand {
  /** The XEP-0050 node, also the text command it runs. */
  node: string;
  /** The name clients show. */
  name: string;
  form(services: TriageServices): Form;
  /** The text command line a submission stands for, or what is wrong with it (the form comes back with it). */
  line(values: Submitted, services: TriageServices): string | { error: string };
}

/** At most this many incidents are offered as choices (the newest). Older ones can still be named by number. */
export const CHOICES = 50;

const OPEN: TriageState[] = ['open'];
const NOT_RESOLVED: TriageState[] = ['open', 'acked'];

function incidentField(services: TriageServices, states: TriageState[], multi: boolean, label: string): FormField {
  const page = services.store.query({ states, limit: CHOICES });
  return {
    var: 'incident',
    type: multi ? 'list-multi' : 'list-single',
    label,
    required: true,
    options: page.incidents.map((stored) => ({ value: String(stored.number), label: flat(listLine(stored), 200) })),
  };
}

function text(var_: string, label: string, required = false, type: 'text-single' | 'text-multi' = 'text-single', desc?: string): FormField {
  return { var: var_, type, label, ...(required ? { required } : {}), ...(desc ? { desc } : {}) };
}

type Read<T> = T | { error: string };
const isError = <T>(v: Read<T>): v is { error: string } => typeof v === 'object' && v !== null && 'error' in v;

/** `#N` for each chosen incident; each must exist (it need not be among the choices offered: those are the newest). */
function incidents(values: Submitted, services: TriageServices, multi: boolean): Read<string[]> {
  const chosen = (values.get('incident') ?? []).map((v) => v.trim()).filter((v) => v !== '');
  if (chosen.length === 0) return { error: 'choose an incident' };
  if (!multi && chosen.length > 1) return { error: 'choose one incident' };
  for (const value of chosen) {
    const number = /^#?(\d{1,9})$/.exec(value)?.[1];
    if (number === undefined || !services.store.getByNumber(Number(number))) return { error: `incident: '${flat(value, 40)}' is not an incident I know` };
  }
  return chosen.map((v) => `#${v.replace(/^#/, '')}`);
}

/** One free-text value, on one line (it is part of a command line). */
function freeText(values: Submitted, var_: string, what: string, required: boolean): Read<string> {
  const value = flat((values.get(var_) ?? []).join(' '));
  if (required && value === '') return { error: `${what}: required` };
  return value;
}

/** Words that must each be one token (addresses, peers, categories), with an optional `key=` in front. */
function tokens(values: Submitted, var_: string, what: string, prefix = ''): Read<string[]> {
  const out: string[] = [];
  for (const raw of values.get(var_) ?? []) {
    for (const token of raw.split(/\s+/).filter((t) => t !== '')) {
      if (flat(token) !== token) return { error: `${what}: '${flat(token, 40)}' is not a single word` };
      out.push(`${prefix}${token}`);
    }
  }
  return out;
}

function joined(...parts: Array<Read<string | string[]>>): string | { error: string } {
  const bad = parts.find(isError);
  if (bad) return bad;
  return (parts as Array<string | string[]>).flat().filter((p) => p !== '').join(' ');
}

function trustedPeers(services: TriageServices): FormField {
  return {
    var: 'peer',
    type: 'list-single',
    label: 'Peer',
    required: true,
    options: services.config.peers.filter((p) => p.trust === 'trusted').map((p) => ({ value: p.jid, label: p.jid })),
  };
}

const ack: AdhocCommand = {
  node: 'ack',
  name: 'Acknowledge incidents',
  form: (s) => ({
    type: 'form',
    title: 'Acknowledge incidents',
    instructions: 'We are looking into them: the peers that know them are told.',
    fields: [incidentField(s, OPEN, true, 'Incidents'), text('note', 'Note')],
  }),
  line: (v, s) => joined('ack', incidents(v, s, true), freeText(v, 'note', 'note', false)),
};

const solve: AdhocCommand = {
  node: 'solve',
  name: 'Solve an incident',
  form: (s) => ({
    type: 'form',
    title: 'Solve an incident',
    instructions: 'Marks it resolved with what fixed it; the peers that know it are told.',
    fields: [
      incidentField(s, NOT_RESOLVED, false, 'Incident'),
      text('text', 'What solved it', true),
      text('ip', 'Source IPs it identified', false, 'text-multi', 'one ADDR[:PORT] per line'),
      text('jid', 'Source JIDs it identified', false, 'text-multi', 'one JID per line'),
    ],
  }),
  line: (v, s) => joined('solve', incidents(v, s, false), freeText(v, 'text', 'what solved it', true), tokens(v, 'ip', 'IP', 'ip='), tokens(v, 'jid', 'JID', 'jid=')),
};

const report: AdhocCommand = {
  node: 'report',
  name: 'Report a new incident',
  form: () => ({
    type: 'form',
    title: 'Report a new incident',
    instructions: 'Sent to every trusted peer.',
    fields: [
      { var: 'severity', type: 'list-single', label: 'Severity', required: true, values: ['3'], options: ['1', '2', '3', '4', '5'].map((value) => ({ value })) },
      text('category', 'Category[/type…]', true, 'text-single', 'e.g. muc/presence/long-messages'),
      text('text', 'What happens', true),
      text('src', 'Sources (JIDs or IPs)', false, 'text-multi', 'one per line'),
      text('loc', 'Where (JIDs)', false, 'text-multi', 'one per line'),
    ],
  }),
  line: (v) => {
    const category = tokens(v, 'category', 'category');
    if (!isError(category) && category.length !== 1) return { error: 'category: one word, e.g. muc/presence' };
    return joined('report', tokens(v, 'severity', 'severity'), category, freeText(v, 'text', 'what happens', true), tokens(v, 'src', 'source', 'src='), tokens(v, 'loc', 'where', 'loc='));
  },
};

const forward: AdhocCommand = {
  node: 'forward',
  name: 'Forward an incident to a peer',
  form: (s) => ({
    type: 'form',
    title: 'Forward an incident',
    instructions: 'Sends it to a configured trusted peer, in its format.',
    fields: [incidentField(s, NOT_RESOLVED, false, 'Incident'), trustedPeers(s)],
  }),
  line: (v, s) => {
    const peer = tokens(v, 'peer', 'peer');
    if (!isError(peer) && peer.length !== 1) return { error: 'choose one peer' };
    return joined('forward', incidents(v, s, false), peer);
  },
};

export const ADHOC_COMMANDS: readonly AdhocCommand[] = [ack, solve, report, forward];

/** Nodes offered for any declared command taking `<ref>` first that has no form of its own, when it exists. */
const GENERIC_NODES = ['block'];

/** A form for a `<ref> …` command: the incident, then the rest of its arguments as typed. */
export function genericRefCommand(spec: CommandSpec): AdhocCommand {
  return {
    node: spec.name,
    name: spec.summary,
    form: (s) => ({
      type: 'form',
      title: `${spec.name}: ${spec.summary}`,
      fields: [incidentField(s, NOT_RESOLVED, false, 'Incident'), text('args', `Arguments (${spec.args.replace(/^<ref>\s*/, '')})`)],
    }),
    line: (v, s) => joined(spec.name, incidents(v, s, false), freeText(v, 'args', 'arguments', false)),
  };
}

/** The ad-hoc commands for a set of declared commands: only those whose text command exists. */
export function adhocCommandsFor(commands: readonly CommandSpec[]): AdhocCommand[] {
  const known = ADHOC_COMMANDS.filter((c) => findCommand(commands, c.node));
  for (const node of GENERIC_NODES) {
    const spec = findCommand(commands, node);
    if (spec && /^<ref>/.test(spec.args) && !known.some((c) => c.node === node)) known.push(genericRefCommand(spec));
  }
  return known;
}
