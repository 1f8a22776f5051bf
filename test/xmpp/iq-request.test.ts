/**
 * An IQ answer completes a request only when it comes from the entity asked (RFC 6120 §8.2.3), driven through the
 * client's own middleware with a captured send.
 */
import { client } from '@xmpp/client';
import xml, { type Element } from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { checkIqReplies, sameResponder } from '../../src/xmpp/iq-request.js';

const SELF = 'bot@home.example/bot';

describe('sameResponder', () => {
  it.each([
    ['peer@remote.example/bot', 'peer@remote.example/bot', true],
    ['peer@remote.example/bot', 'PEER@Remote.Example/bot', true],
    ['peer@remote.example/bot', 'peer@remote.example/Bot', false],
    ['peer@remote.example/bot', 'peer@remote.example', false],
    ['peer@remote.example/bot', 'mallory@remote.example/bot', false],
    ['peer@remote.example/bot', undefined, false],
    ['peer@remote.example', 'peer@remote.example', true],
    ['peer@remote.example', 'peer@remote.example/bot', false],
    ['remote.example', 'remote.example', true],
    ['remote.example', 'evil.example', false],
    // Our own server may answer without a from, or with our bare JID or domain.
    [undefined, undefined, true],
    [undefined, 'bot@home.example', true],
    [undefined, 'home.example', true],
    [undefined, 'peer@remote.example/bot', false],
    ['home.example', undefined, true],
    ['bot@home.example', undefined, true],
    ['bot@home.example', 'home.example', true],
    ['conference.home.example', undefined, false],
  ] as const)('sent to %s, answered from %s → %s', (to, from, expected) => {
    expect(sameResponder(to, from, SELF)).toBe(expected);
  });
});

describe('checkIqReplies', () => {
  function setup() {
    const xmpp = client({ service: 'xmpp://127.0.0.1:9', domain: 'home.example' });
    const sent: Element[] = [];
    (xmpp as unknown as { send: (el: Element) => Promise<void> }).send = async (el) => void sent.push(el);
    (xmpp as unknown as { jid: unknown }).jid = { toString: () => SELF };
    checkIqReplies(xmpp, silentLogger());
    const receive = (el: Element) => xmpp.emit('element', el);
    return { xmpp, sent, receive };
  }

  it('ignores a result from another JID with the right id; the peer’s own result completes the request', async () => {
    const { xmpp, sent, receive } = setup();
    let settled = false;
    const request = xmpp.iqCaller.request(xml('iq', { type: 'set', to: 'peer@remote.example/bot' }, xml('report')), 2_000).then((r: Element) => {
      settled = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    const id = String(sent[0]!.attrs.id);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    receive(xml('iq', { type: 'result', id, from: 'mallory@remote.example/bot' }));
    receive(xml('iq', { type: 'error', id, from: 'peer@remote.example' }, xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }))));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    receive(xml('iq', { type: 'result', id, from: 'peer@remote.example/bot' }));
    expect((await request).attrs.from).toBe('peer@remote.example/bot');
  });

  it('turns the right sender’s error into a StanzaError with condition, text and type', async () => {
    const { xmpp, sent, receive } = setup();
    const request = xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'peer@remote.example/bot' }, xml('inquiry')), 2_000);
    await new Promise((r) => setImmediate(r));
    const NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
    receive(
      xml('iq', { type: 'error', id: String(sent[0]!.attrs.id), from: 'peer@remote.example/bot' },
        xml('error', { type: 'wait' }, xml('resource-constraint', { xmlns: NS }), xml('text', { xmlns: NS }, 'slow down'))),
    );
    await expect(request).rejects.toMatchObject({ name: 'StanzaError', condition: 'resource-constraint', text: 'slow down', type: 'wait' });
  });

  it('times out when only the wrong sender answers', async () => {
    const { xmpp, sent, receive } = setup();
    const request = xmpp.iqCaller.request(xml('iq', { type: 'set', to: 'peer@remote.example/bot' }, xml('report')), 100);
    await new Promise((r) => setImmediate(r));
    receive(xml('iq', { type: 'result', id: String(sent[0]!.attrs.id), from: 'eve@remote.example/x' }));
    await expect(request).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});
