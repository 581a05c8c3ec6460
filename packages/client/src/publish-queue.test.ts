import { CLOSE_CODES, type SynclineError } from '@syncline/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from './client.js';
import type { ClientOptions } from './client-options.js';
import { FakeServer } from './testing/fake-server.js';

/** A client on a fake server, connected. */
async function connected(options: Partial<ClientOptions> = {}) {
  const server = new FakeServer();
  const client = createClient({ url: 'http://fake', transport: server.transport, ...options });
  await server.accept();
  return { server, client };
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

describe('publish lanes (fake server)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resends a rate_limited publish after retryAfterMs with the same key; later ones to the channel wait for it', async () => {
    const { server, client } = await connected();
    const first = outcome(client.publish('chat:a', 1));
    const second = outcome(client.publish('chat:a', 2));
    const other = outcome(client.publish('chat:b', 'b'));
    const p1 = await server.expectCommand('publish');
    expect(p1).toMatchObject({ channel: 'chat:a', data: 1 });
    // Another channel's lane does not wait for this one.
    const pb = await server.expectCommand('publish');
    expect(pb).toMatchObject({ channel: 'chat:b', data: 'b' });
    server.reply(pb.id, { offset: 1, epoch: 'e' });

    server.replyError(p1.id, 'rate_limited', 'Publish rate above 50/s.', { retryAfterMs: 300 });
    await vi.advanceTimersByTimeAsync(299);
    // Nothing went out meanwhile: neither the refused publish nor the one behind it.
    await expect(server.expectCommand('publish', 20)).rejects.toThrow('Wanted a "publish" command');
    await vi.advanceTimersByTimeAsync(1);
    const again = await server.expectCommand('publish');
    expect(again).toMatchObject({ channel: 'chat:a', data: 1, key: p1.key });
    expect(again.id).not.toBe(p1.id);
    server.reply(again.id, { offset: 1, epoch: 'e' });
    const p2 = await server.expectCommand('publish');
    expect(p2).toMatchObject({ channel: 'chat:a', data: 2 });
    expect(p2.key).not.toBe(p1.key);
    server.reply(p2.id, { offset: 2, epoch: 'e' });
    await vi.advanceTimersByTimeAsync(0);
    expect({ first, second, other }).toEqual({
      first: { value: { offset: 1, epoch: 'e' } },
      second: { value: { offset: 2, epoch: 'e' } },
      other: { value: { offset: 1, epoch: 'e' } },
    });
    expect(server.invalid).toEqual([]);
    client.close();
  });

  it('sends one publish per channel at a time, in call order', async () => {
    const { server, client } = await connected();
    const results = [1, 2, 3].map((n) => client.publish('chat:a', n));
    for (const n of [1, 2, 3]) {
      const cmd = await server.expectCommand('publish');
      expect(cmd.data).toBe(n);
      await expect(server.expectCommand('publish', 20)).rejects.toThrow('Wanted a "publish" command');
      server.reply(cmd.id, { offset: n, epoch: 'e' });
    }
    expect((await Promise.all(results)).map((r) => r.offset)).toEqual([1, 2, 3]);
    client.close();
  });

  it('a publish in flight when the connection drops is resent with its key on the next one, still first', async () => {
    const { server, client } = await connected({ reconnect: { minDelayMs: 100, maxDelayMs: 100 } });
    const first = outcome(client.publish('chat:a', 1));
    const second = outcome(client.publish('chat:a', 2));
    const p1 = await server.expectCommand('publish');
    server.drop();
    await vi.advanceTimersByTimeAsync(100);
    await server.accept();
    const again = await server.expectCommand('publish');
    expect(again).toMatchObject({ data: 1, key: p1.key });
    server.reply(again.id, { offset: 1, epoch: 'e' });
    const p2 = await server.expectCommand('publish');
    expect(p2.data).toBe(2);
    server.reply(p2.id, { offset: 2, epoch: 'e' });
    await vi.advanceTimersByTimeAsync(0);
    expect([first, second]).toEqual([{ value: { offset: 1, epoch: 'e' } }, { value: { offset: 2, epoch: 'e' } }]);
    expect(server.received.filter((r) => r.command.type === 'publish').map((r) => r.connection)).toEqual([1, 2, 2]);
    client.close();
  });

  it('a non-retryable error rejects at once and the lane goes on', async () => {
    const { server, client } = await connected();
    const refused = outcome(client.publish('chat:a', 1));
    const next = outcome(client.publish('chat:a', 2));
    const p1 = await server.expectCommand('publish');
    server.replyError(p1.id, 'forbidden', 'No publish here.');
    const p2 = await server.expectCommand('publish');
    server.reply(p2.id, { offset: 1, epoch: 'e' });
    await vi.advanceTimersByTimeAsync(0);
    expect({ refused, next }).toEqual({
      refused: { code: 'forbidden', message: 'No publish here.' },
      next: { value: { offset: 1, epoch: 'e' } },
    });
    client.close();
  });

  it('the request timeout bounds the whole wait: a retry that would end past it rejects with rate_limited', async () => {
    const { server, client } = await connected({ requestTimeoutMs: 1_000 });
    const started = Date.now();
    const head = outcome(client.publish('chat:a', 1));
    const behind = outcome(client.publish('chat:a', 2));
    // Refused at 0 and 400 ms; at 800 ms a wait of 400 ms would end past the deadline (1,000 ms).
    for (const at of [0, 400, 800]) {
      const cmd = await server.expectCommand('publish');
      expect([cmd.data, Date.now() - started]).toEqual([1, at]);
      server.replyError(cmd.id, 'rate_limited', 'slow down', { retryAfterMs: 400 });
      await vi.advanceTimersByTimeAsync(at === 800 ? 0 : 400);
    }
    expect(head).toEqual({ code: 'rate_limited', message: 'slow down' });
    // The publish behind it goes out with what is left of its own time, and times out unanswered.
    const p2 = await server.expectCommand('publish');
    expect(p2.data).toBe(2);
    await vi.advanceTimersByTimeAsync(199);
    expect(behind).toEqual({});
    await vi.advanceTimersByTimeAsync(1);
    expect(behind).toEqual({ code: 'request_timeout', message: 'No reply to "publish" within 200 ms.' });
    client.close();
  });

  it('a publish waiting behind an unanswered one times out at its own deadline, never sent', async () => {
    const { server, client } = await connected({ requestTimeoutMs: 1_000 });
    const head = outcome(client.publish('chat:a', 1));
    await vi.advanceTimersByTimeAsync(500);
    const behind = outcome(client.publish('chat:a', 2));
    await server.expectCommand('publish');
    await vi.advanceTimersByTimeAsync(500);
    expect(head).toMatchObject({ code: 'request_timeout' });
    // The head timed out: the next one goes out with its remaining 500 ms.
    const p2 = await server.expectCommand('publish');
    expect(p2.data).toBe(2);
    await vi.advanceTimersByTimeAsync(500);
    expect(behind).toEqual({ code: 'request_timeout', message: 'No reply to "publish" within 500 ms.' });

    // One stuck behind a head whose retries keep it busy gets the queue's own timeout.
    const a = outcome(client.publish('chat:b', 'a'));
    const b = outcome(client.publish('chat:b', 'b'));
    const pa = await server.expectCommand('publish');
    server.replyError(pa.id, 'rate_limited', 'slow down', { retryAfterMs: 900 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(a).toMatchObject({ code: 'request_timeout' });
    expect(b).toEqual({
      code: 'request_timeout',
      message: 'Publish to "chat:b" not sent within 1000 ms (earlier publishes or retries were still waiting).',
    });
    client.close();
  });

  it('a refused token without getToken: waiting and new publish, history and subscribe fail at once with its code', async () => {
    const server = new FakeServer();
    const client = createClient({ url: 'http://fake', transport: server.transport, token: 'bad' });
    const waiting = outcome(client.publish('chat:a', 1));
    const early = client.subscribe('chat:early');
    const cmd = await server.expectCommand('connect');
    server.replyError(cmd.id, 'unauthorized', 'Bad signature.');
    server.drop(CLOSE_CODES.UNAUTHORIZED.code, 'unauthorized');
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting).toEqual({ code: 'unauthorized', message: 'Bad signature.' });
    // Without getToken the refusal is final: a subscription that waited for the connection ends too.
    await expect(early.ready).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(client.publish('chat:a', 2)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(client.history('chat:a')).rejects.toMatchObject({ code: 'unauthorized' });
    const sub = client.subscribe('chat:a');
    await expect(sub.ready).rejects.toMatchObject({ code: 'unauthorized' });
    expect(sub.state).toBe('unsubscribed');
    expect(vi.getTimerCount()).toBe(0);
    client.close();
  });
});
