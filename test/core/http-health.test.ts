import { describe, expect, it } from 'vitest';
import { parseListen, unhealthyBecause } from '../../src/ops/http.js';

describe('http.listen', () => {
  it('reads host:port and [v6]:port, and nothing else', () => {
    expect(parseListen('127.0.0.1:9468')).toEqual({ host: '127.0.0.1', port: 9468 });
    expect(parseListen('[::1]:9468')).toEqual({ host: '::1', port: 9468 });
    expect(parseListen('9468')).toBeUndefined();
    expect(parseListen('127.0.0.1:70000')).toBeUndefined();
    expect(parseListen('::1:9468')).toBeUndefined();
  });
});

describe('/healthz reasons', () => {
  const healthy = { online: () => true, defaultRoom: () => ({ room: 'ops@muc.example', joined: true }), store: () => ({ ok: true as const }) };
  it('is healthy only when connected, in the default room and writable', () => {
    expect(unhealthyBecause(healthy)).toBeUndefined();
    expect(unhealthyBecause({ ...healthy, online: () => false })).toBe('not connected to the XMPP server');
    expect(unhealthyBecause({ ...healthy, defaultRoom: () => ({ room: 'ops@muc.example', joined: false, lastError: 'registration-required' }) })).toBe(
      'not in the default room ops@muc.example (registration-required)',
    );
    expect(unhealthyBecause({ ...healthy, store: () => ({ ok: false as const, problem: 'disk full' }) })).toBe('the store cannot write: disk full');
  });
});
