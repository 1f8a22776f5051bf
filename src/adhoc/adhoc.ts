/**
 * XEP-0050 ad-hoc commands on the bot's full JID: listed under the commands node of disco#items, each a data form
 * (src/adhoc/adhoc-commands.ts) whose submission becomes a text command line run by the same dispatcher, with the
 * same rights as a direct message (configured admins only) and the same workflow. A submission the command cannot
 * use comes back as the form with the error; what the command answers is the completion note.
 */
import { randomUUID } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import { monotonicNow } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { flat } from '../core/flat-text.js';
import { mayAct } from '../core/rights.js';
import { bareJid } from '../protocol/validate.js';
import type { Sender, TriageServices } from '../triage/context.js';
import { dispatch } from '../triage/dispatch.js';
import type { Client } from '../xmpp/connection.js';
import { COMMANDS_NS, DISCO_INFO_NS, DISCO_ITEMS_NS, type Disco } from '../xmpp/disco.js';
import { stanzaError, type ErrorType } from '../xmpp/stanza-errors.js';
import { adhocCommandsFor, type AdhocCommand } from './adhoc-commands.js';
import { DATA_NS, formElement, readSubmission, refill, type Form, type Submitted } from './data-form.js';

export interface AdhocDeps {
  xmpp: Client;
  config: Config;
  services: TriageServices;
  disco: Disco;
  log: Logger;
}

/** A session unused for this long is forgotten (its form answered with session-expired). */
export const SESSION_TTL_MS = 15 * 60_000;
/** Sessions kept at once, all requesters together; the oldest goes first. */
export const MAX_SESSIONS = 200;
/** The completion note is clipped to this many characters (a long answer is better read with the text command). */
const MAX_NOTE = 4000;

interface Session {
  node: string;
  /** Only the full JID that started it may go on with it. */
  owner: string;
  touched: number;
}

interface IqContext {
  stanza: Element;
  element: Element;
}

/** XEP-0050 §4.6's specific conditions, next to the general one. */
function commandError(type: ErrorType, condition: string, specific: string | undefined, text: string): Element {
  const error = stanzaError(type, condition, text);
  if (specific) error.append(xml(specific, { xmlns: COMMANDS_NS }));
  return error;
}

export function answerAdhoc(deps: AdhocDeps): void {
  const { xmpp, services, disco } = deps;
  const commands = (): AdhocCommand[] => adhocCommandsFor(services.commands);
  const sessions = new Map<string, Session>();
  const senderOf = (from: string): Sender => ({ jid: bareJid(from), isAdmin: mayAct(deps.config, from) });

  disco.addNode(COMMANDS_NS, () =>
    xml('query', { xmlns: DISCO_INFO_NS, node: COMMANDS_NS }, xml('identity', { category: 'automation', type: 'command-list', name: 'Incident commands' })),
  );
  for (const command of commands()) {
    disco.addNode(command.node, (from) =>
      senderOf(from).isAdmin
        ? xml(
            'query',
            { xmlns: DISCO_INFO_NS, node: command.node },
            xml('identity', { category: 'automation', type: 'command-node', name: command.name }),
            xml('feature', { var: COMMANDS_NS }),
            xml('feature', { var: DATA_NS }),
          )
        : undefined,
    );
  }

  xmpp.iqCallee.get(DISCO_ITEMS_NS, 'query', (ctx: IqContext) => {
    const node = ctx.element.attrs.node as string | undefined;
    const from = String(ctx.stanza.attrs.from ?? '');
    if (node === undefined) return xml('query', { xmlns: DISCO_ITEMS_NS });
    if (node !== COMMANDS_NS) return stanzaError('cancel', 'item-not-found', `no such node: ${flat(node, 100)}`);
    // Only what the asker may run: nothing for someone who may not command the bot.
    const self = String(ctx.stanza.attrs.to ?? '');
    const listed = senderOf(from).isAdmin ? commands() : [];
    return xml('query', { xmlns: DISCO_ITEMS_NS, node: COMMANDS_NS }, ...listed.map((c) => xml('item', { jid: self, node: c.node, name: c.name })));
  });

  xmpp.iqCallee.set(COMMANDS_NS, 'command', async (ctx: IqContext) => {
    const from = String(ctx.stanza.attrs.from ?? '');
    const el = ctx.element;
    const node = String(el.attrs.node ?? '');
    const action = (el.attrs.action as string | undefined) ?? 'execute';
    const command = commands().find((c) => c.node === node);
    if (!command) return stanzaError('cancel', 'item-not-found', `no such command: ${flat(node, 100)}`);
    const sender = senderOf(from);
    if (!sender.isAdmin) {
      // The refusal a direct message gets, from the dispatcher itself (it refuses before running anything).
      const said: string[] = [];
      await dispatch({ text: node, where: { kind: 'dm', from }, sender, reply: (t) => said.push(t) }, services);
      return stanzaError('auth', 'forbidden', said.join(' ') || 'not allowed');
    }
    forgetStale(sessions);
    const sessionid = el.attrs.sessionid as string | undefined;
    if (sessionid === undefined) {
      if (action !== 'execute') return commandError('modify', 'bad-request', 'bad-action', `a new session starts with action 'execute', not '${flat(action, 20)}'`);
      const id = randomUUID();
      sessions.set(id, { node, owner: from, touched: monotonicNow() });
      while (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
      return executing(node, id, command.form(services));
    }
    const session = sessions.get(sessionid);
    if (!session || session.owner !== from || session.node !== node) {
      return commandError('modify', 'bad-request', 'bad-sessionid', 'unknown or expired session: start the command again');
    }
    session.touched = monotonicNow();
    if (action === 'cancel') {
      sessions.delete(sessionid);
      return xml('command', { xmlns: COMMANDS_NS, node, sessionid, status: 'canceled' });
    }
    if (action === 'prev' || action === 'next') return commandError('modify', 'bad-request', 'bad-action', `this command has one stage: '${action}' does not apply`);
    if (action !== 'complete' && action !== 'execute') return commandError('modify', 'bad-request', 'malformed-action', `unknown action '${flat(action, 20)}'`);
    const submitted = readSubmission(el.getChild('x', DATA_NS));
    if (submitted === 'cancel') {
      sessions.delete(sessionid);
      return xml('command', { xmlns: COMMANDS_NS, node, sessionid, status: 'canceled' });
    }
    if (typeof submitted === 'string') return commandError('modify', 'bad-request', 'bad-payload', submitted);
    const line = command.line(submitted, services);
    if (typeof line !== 'string') return executing(node, sessionid, refill(command.form(services), submitted), line.error);
    const said: string[] = [];
    const result = await dispatch({ text: line, where: { kind: 'dm', from }, sender, reply: (t) => said.push(t) }, services, (err) =>
      deps.log.error({ err: (err as Error).message, from, node }, 'ad-hoc command failed'),
    );
    const answer = flat(said.join(' — '), MAX_NOTE) || 'done';
    // Bad arguments: the form again, with the usage answer, so the admin can correct it.
    if (result === 'usage') return executing(node, sessionid, refill(command.form(services), submitted), answer);
    sessions.delete(sessionid);
    if (result === 'refused') return stanzaError('auth', 'forbidden', answer);
    return xml(
      'command',
      { xmlns: COMMANDS_NS, node, sessionid, status: 'completed' },
      xml('note', { type: result === 'failed' ? 'error' : 'info' }, answer),
    );
  });
}

function executing(node: string, sessionid: string, form: Form, error?: string): Element {
  return xml(
    'command',
    { xmlns: COMMANDS_NS, node, sessionid, status: 'executing' },
    xml('actions', { execute: 'complete' }, xml('complete')),
    ...(error !== undefined ? [xml('note', { type: 'error' }, error)] : []),
    formElement(form),
  );
}

function forgetStale(sessions: Map<string, Session>): void {
  const now = monotonicNow();
  for (const [id, session] of sessions) if (now - session.touched > SESSION_TTL_MS) sessions.delete(id);
}

export type { Submitted };
