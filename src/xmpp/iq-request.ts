/**
 * IQ requests whose answer must come from the entity asked (RFC 6120 §8.2.3): "the responding entity" is the one the
 * request was addressed to. @xmpp/iq's caller matches a result by its id alone, so anyone who learns or guesses an
 * id could complete a delivery the real peer never acknowledged. This replaces the client's `iqCaller.request` (and
 * so its `get`/`set`, the rooms' and delivery's calls alike) with one that also checks `from`:
 *
 * - sent to a full JID: the answer comes from that full JID;
 * - sent to a bare JID or a domain: from that bare JID or domain (the server answers for the account);
 * - sent to our own server, our own bare JID, or with no `to`: the server may leave `from` out (RFC 6120 §8.1.2.1),
 *   so no `from`, our bare JID or our domain are all the same sender.
 * Local and domain parts compare case-insensitively, the resource exactly. An answer from anyone else is dropped:
 * the request keeps waiting for the real one, or times out.
 *
 * The returned promise is the only one: settled by the answer, the timeout or a failed send, and never left
 * rejected without a handler while the send is still in progress.
 */
import { randomUUID } from 'node:crypto';
import type { Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Client } from './connection.js';

interface Pending {
  to: string | undefined;
  resolve(stanza: Element): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface ReplyContext {
  stanza: Element;
  name: string;
  type: string;
  id: string;
}

export class IqTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** An IQ error answer, shaped like @xmpp/middleware's StanzaError (name, condition, text, type, element). */
export class IqStanzaError extends Error {
  override readonly name = 'StanzaError';

  constructor(
    readonly condition: string,
    readonly text: string,
    readonly type: string | undefined,
    readonly element: Element | undefined,
  ) {
    super(condition + (text ? ` - ${text}` : ''));
  }

  static fromReply(reply: Element): IqStanzaError {
    const error = reply.getChild('error');
    const condition = error?.getChildElements().find((c) => c.name !== 'text' && c.getNS() === STANZAS_NS)?.name ?? 'undefined-condition';
    const text = error?.getChildText('text', STANZAS_NS) ?? '';
    return new IqStanzaError(condition, text, error?.attrs.type as string | undefined, error);
  }
}

/** Installs the checked request on the client; call once, before the first request. */
export function checkIqReplies(xmpp: Client, log: Logger): void {
  const pending = new Map<string, Pending>();
  // Runs after @xmpp/iq's own route, which passes on results whose id it did not issue: these requests' ids.
  xmpp.middleware.use((ctx: ReplyContext, next: () => unknown) => {
    if (ctx.name !== 'iq' || (ctx.type !== 'result' && ctx.type !== 'error')) return next();
    const request = pending.get(ctx.id);
    if (!request) return next();
    const from = ctx.stanza.attrs.from as string | undefined;
    if (!sameResponder(request.to, from, xmpp.jid?.toString())) {
      log.warn({ id: ctx.id, expected: request.to, from }, 'IQ answer from another sender than the one asked: ignored');
      return undefined;
    }
    pending.delete(ctx.id);
    clearTimeout(request.timer);
    if (ctx.type === 'error') request.reject(IqStanzaError.fromReply(ctx.stanza));
    else request.resolve(ctx.stanza);
    return undefined;
  });

  const request = (stanza: Element, timeoutMs = 30_000): Promise<Element> => {
    // Unguessable: an id is all @xmpp/iq used to match an answer, and still half of what identifies one here.
    const id = (stanza.attrs.id as string | undefined) ?? randomUUID();
    stanza.attrs.id = id;
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new IqTimeoutError(`no answer to IQ ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { to: stanza.attrs.to as string | undefined, resolve, reject, timer });
      xmpp.send(stanza).catch((err: Error) => {
        if (pending.get(id)?.timer !== timer) return;
        pending.delete(id);
        clearTimeout(timer);
        reject(err);
      });
    });
  };
  (xmpp.iqCaller as { request: typeof request }).request = request;
}

/** Whether an answer `from` comes from the entity a request was sent `to` (see the top comment). */
export function sameResponder(to: string | undefined, from: string | undefined, self: string | undefined): boolean {
  if (to !== undefined && from !== undefined && normalise(to) === normalise(from)) return true;
  const selfBare = self ? normalise(bare(self)) : undefined;
  const selfDomain = self ? normalise(domain(self)) : undefined;
  const toUs = to === undefined || normalise(to) === selfBare || normalise(to) === selfDomain;
  if (!toUs) return false;
  return from === undefined || normalise(from) === selfBare || normalise(from) === selfDomain || (to !== undefined && normalise(from) === normalise(to));
}

/** Local and domain parts lower-cased, the resource as it is. */
function normalise(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid.toLowerCase() : `${jid.slice(0, slash).toLowerCase()}${jid.slice(slash)}`;
}

function bare(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid : jid.slice(0, slash);
}

function domain(jid: string): string {
  const b = bare(jid);
  return b.slice(b.indexOf('@') + 1);
}
