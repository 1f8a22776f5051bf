import xml from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { bodyWithoutReplyFallback, FALLBACK_NS, ownIdsOf, reactionsOf, REACTIONS_NS, replyTarget, REPLY_NS, SID_NS, stanzaIdBy } from '../../src/gestures/stanzas.js';
import { reactionCommandText, replyCommandText } from '../../src/gestures/gesture-text.js';
import { allCommands } from '../../commands/index.js';

const ROOM = 'ops@conference.example.org';

describe('XEP-0461 replies', () => {
  it('reads the id replied to and takes the fallback quote off the body (ranges in code points)', () => {
    const quote = '> #3 NEW 👀 spam\n';
    const body = `${quote}!ack on it`;
    const stanza = xml(
      'message',
      { type: 'groupchat' },
      xml('body', {}, body),
      xml('reply', { xmlns: REPLY_NS, to: `${ROOM}/bot`, id: 'sid-1' }),
      xml('fallback', { xmlns: FALLBACK_NS, for: REPLY_NS }, xml('body', { start: '0', end: String([...quote].length) })),
    );
    expect(replyTarget(stanza)).toBe('sid-1');
    expect(bodyWithoutReplyFallback(stanza, body)).toBe('!ack on it');
  });

  it('keeps the body when there is no fallback marker, and ignores a range out of bounds', () => {
    const plain = xml('message', {}, xml('body', {}, '!ack on it'), xml('reply', { xmlns: REPLY_NS, id: 'x' }));
    expect(bodyWithoutReplyFallback(plain, '!ack on it')).toBe('!ack on it');
    const bad = xml('message', {}, xml('fallback', { xmlns: FALLBACK_NS, for: REPLY_NS }, xml('body', { start: '0', end: '999' })));
    expect(bodyWithoutReplyFallback(bad, '!ack on it')).toBe('!ack on it');
  });

  it('has no target without an id, or with an absurdly long one', () => {
    expect(replyTarget(xml('message', {}, xml('reply', { xmlns: REPLY_NS })))).toBeUndefined();
    expect(replyTarget(xml('message', {}, xml('reply', { xmlns: REPLY_NS, id: 'x'.repeat(300) })))).toBeUndefined();
  });

  it('inserts the announced incident into commands taking a reference first, and only those', () => {
    expect(replyCommandText('!ack on it', 3, allCommands)).toBe('!ack #3 on it');
    expect(replyCommandText('!ack', 3, allCommands)).toBe('!ack #3');
    expect(replyCommandText('!solve blocked ip=192.0.2.1', 3, allCommands)).toBe('!solve #3 blocked ip=192.0.2.1');
    expect(replyCommandText('!forward partner@peer.example/bot', 3, allCommands)).toBe('!forward #3 partner@peer.example/bot');
    expect(replyCommandText('!ack #5 other', 3, allCommands)).toBe('!ack #5 other');
    expect(replyCommandText('!list all', 3, allCommands)).toBe('!list all');
    expect(replyCommandText('nice catch', 3, allCommands)).toBe('nice catch');
  });
});

describe('XEP-0444 reactions', () => {
  it('reads the id and the reactions, without variation selectors', () => {
    const stanza = xml('message', {}, xml('reactions', { xmlns: REACTIONS_NS, id: 'sid-2' }, xml('reaction', {}, '👀\uFE0F'), xml('reaction', {}, '👍')));
    expect(reactionsOf(stanza)).toEqual({ id: 'sid-2', emojis: ['👀', '👍'] });
  });

  it('only 👀 stands for a command (ack); anything else for none', () => {
    expect(reactionCommandText(['👍', '👀'], 7)).toBe('!ack #7');
    expect(reactionCommandText(['👍', '🎉'], 7)).toBeUndefined();
    expect(reactionCommandText([], 7)).toBeUndefined();
  });
});

describe('XEP-0359 ids', () => {
  it('takes the stanza-id stamped by the room only, and the sender ids', () => {
    const stanza = xml(
      'message',
      { id: 'm1' },
      xml('stanza-id', { xmlns: SID_NS, by: 'someone@else', id: 'forged' }),
      xml('stanza-id', { xmlns: SID_NS, by: ROOM, id: 'real' }),
      xml('origin-id', { xmlns: SID_NS, id: 'o1' }),
    );
    expect(stanzaIdBy(stanza, ROOM)).toBe('real');
    expect(stanzaIdBy(stanza, 'other@conference.example.org')).toBeUndefined();
    expect(ownIdsOf(stanza)).toEqual(['o1', 'm1']);
  });
});
