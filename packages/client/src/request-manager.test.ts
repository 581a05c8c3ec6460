import { type RequestCommand, SynclineError } from '@syncline/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestManager } from './request-manager.js';

/** A request manager over a recorded, switchable connection. */
function harness(defaultTimeoutMs = 1_000) {
  const sent: RequestCommand[] = [];
  const errorReplies: SynclineError[] = [];
  const link: { connected: boolean; refusal?: SynclineError } = { connected: false };
  const requests = new RequestManager({
    get connected() {
      return link.connected;
    },
    get refusal() {
      return link.refusal;
    },
    send: (cmd) => sent.push(cmd),
    defaultTimeoutMs,
    onErrorReply: (err) => errorReplies.push(err),
  });
  return { sent, errorReplies, link, requests };
}

/** Settles a promise into a plain record, so outcomes compare whole. */
function outcome(p: Promise<unknown>): { value?: unknown; code?: string; message?: string } {
  const o: { value?: unknown; code?: string; message?: string } = {};
  p.then(
    (value) => {
      o.value = value;
    },
    (err: SynclineError) => {
      o.code = err.code;
      o.message = err.message;
    },
  );
  return o;
}

describe('RequestManager', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives each request its own increasing id, shared with allocateId', () => {
    const h = harness();
    h.link.connected = true;
    void h.requests.request({ type: 'publish', channel: 'chat:a', data: 1 });
    expect(h.requests.allocateId()).toBe(2);
    void h.requests.request({ type: 'history', channel: 'chat:a' });
    expect(h.sent).toEqual([
      { type: 'publish', channel: 'chat:a', data: 1, id: 1 },
      { type: 'history', channel: 'chat:a', id: 3 },
    ]);
  });

  it('matches replies to requests by id, whatever their order; unknown ids are left to the caller', async () => {
    const h = harness();
    h.link.connected = true;
    const a = h.requests.request({ type: 'publish', channel: 'chat:a', data: 'a' });
    const b = h.requests.request({ type: 'publish', channel: 'chat:a', data: 'b' });
    expect(h.requests.settle({ type: 'reply', id: 2, result: 'for b' })).toBe(true);
    expect(h.requests.settle({ type: 'reply', id: 1, result: 'for a' })).toBe(true);
    expect(h.requests.settle({ type: 'reply', id: 1, result: 'again' })).toBe(false);
    expect(h.requests.settle({ type: 'reply', id: 99, result: 'stray' })).toBe(false);
    await expect(Promise.all([a, b])).resolves.toEqual(['for a', 'for b']);
  });

  it('rejects on an error reply with its code, details and retry hint, after showing it to the host', async () => {
    const h = harness();
    h.link.connected = true;
    const p = h.requests.request({ type: 'publish', channel: 'chat:a', data: 1 });
    h.requests.settle({
      type: 'error',
      id: 1,
      code: 'rate_limited',
      message: 'slow down',
      retryAfterMs: 250,
      details: { limit: 'publish' },
    });
    await expect(p).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 250, details: { limit: 'publish' } });
    expect(h.errorReplies.map((e) => e.code)).toEqual(['rate_limited']);
  });

  it('times out as request_timeout (offline time included), and a late reply is not matched', async () => {
    const h = harness(1_000);
    const p = outcome(h.requests.request({ type: 'publish', channel: 'chat:a', data: 1 }));
    const custom = outcome(h.requests.request({ type: 'history', channel: 'chat:a' }, { timeoutMs: 3_000 }));
    const forever = outcome(h.requests.request({ type: 'history', channel: 'chat:b' }, { timeoutMs: 0 }));
    await vi.advanceTimersByTimeAsync(999);
    expect(p).toEqual({});
    await vi.advanceTimersByTimeAsync(1);
    expect(p).toEqual({ code: 'request_timeout', message: 'No reply to "publish" within 1000 ms.' });
    h.link.connected = true;
    h.requests.sendUnsent();
    expect(h.requests.settle({ type: 'reply', id: 1, result: 'late' })).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(custom).toMatchObject({ code: 'request_timeout' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(forever).toEqual({});
  });

  it('holds requests made offline and sends them once, in order, when connected', () => {
    const h = harness();
    void h.requests.request({ type: 'publish', channel: 'chat:a', data: 1 });
    void h.requests.request({ type: 'publish', channel: 'chat:a', data: 2 });
    expect(h.sent).toEqual([]);
    h.link.connected = true;
    h.requests.sendUnsent();
    h.requests.sendUnsent();
    expect(h.sent.map((c) => c.id)).toEqual([1, 2]);
  });

  it('on a connection loss: fails sent requests with connection_lost, keeps resend ones and unsent ones', async () => {
    const h = harness();
    h.link.connected = true;
    const plain = outcome(h.requests.request({ type: 'publish', channel: 'chat:a', data: 1 }));
    const resend = outcome(h.requests.request({ type: 'publish', channel: 'chat:a', data: 2 }, { resend: true }));
    const subscribe = outcome(h.requests.request({ type: 'subscribe', channel: 'chat:a' }));
    h.link.connected = false;
    const unsent = outcome(h.requests.request({ type: 'history', channel: 'chat:a' }));
    h.requests.connectionLost();
    await vi.advanceTimersByTimeAsync(0);
    expect({ plain, resend, subscribe, unsent }).toEqual({
      plain: { code: 'connection_lost', message: 'Connection lost before the reply to "publish".' },
      resend: {},
      subscribe: { code: 'connection_lost', message: 'Connection lost during subscribe.' },
      unsent: {},
    });
    h.link.connected = true;
    h.sent.length = 0;
    h.requests.sendUnsent();
    expect(h.sent.map((c) => [c.id, c.type])).toEqual([
      [2, 'publish'],
      [4, 'history'],
    ]);
  });

  it('while the host reports a refusal, a new request rejects at once with it and nothing is sent', async () => {
    const h = harness();
    h.link.refusal = new SynclineError('revoked', 'Access revoked.');
    await expect(h.requests.request({ type: 'history', channel: 'chat:a' })).rejects.toMatchObject({
      code: 'revoked',
      message: 'Access revoked.',
    });
    h.link.connected = true;
    h.requests.sendUnsent();
    expect(h.sent).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejectAll fails every waiting request and clears their timers', async () => {
    const h = harness();
    const a = outcome(h.requests.request({ type: 'publish', channel: 'chat:a', data: 1 }));
    h.requests.rejectAll(new SynclineError('client_closed', 'closed'));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(a).toEqual({ code: 'client_closed', message: 'closed' });
    expect(vi.getTimerCount()).toBe(0);
  });
});
