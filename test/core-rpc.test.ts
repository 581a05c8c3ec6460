import { SynclineError as ServerError } from '@syncline/protocol';
import { defineConfig, defineRpc } from '@syncline/server';
import * as v from 'valibot';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { client, refusal, startServer, token, waitFor } from './helpers.js';

let aborted = 0;

const config = defineConfig({
  rpc: {
    add: defineRpc({
      args: v.object({ a: v.number(), b: v.number() }),
      handler: ({ a, b }, ctx) => ({ sum: a + b, user: ctx.user }),
    }),
    echo: { handler: (data: unknown) => data },
    fail: {
      handler: () => {
        throw new Error('boom');
      },
    },
    deny: {
      handler: () => {
        throw new ServerError('forbidden', 'Not your order.');
      },
    },
    slow: {
      timeoutMs: 200,
      handler: (_data: unknown, ctx) =>
        new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve('late'), 5_000);
          ctx.signal.addEventListener('abort', () => {
            aborted++;
            clearTimeout(timer);
          });
        }),
    },
    wait: {
      handler: (ms: unknown) => new Promise((resolve) => setTimeout(() => resolve('done'), Number(ms))),
    },
  },
});

describe('client RPC', () => {
  it('calls a method with typed args and result, and answers every failure with its code', async () => {
    const server = await startServer(config);
    const c = await client<typeof config>(server, 'alice');
    const sum = await c.rpc('add', { a: 2, b: 3 });
    expectTypeOf(sum).toEqualTypeOf<{ sum: number; user: string }>();
    expect(sum).toEqual({ sum: 5, user: 'alice' });
    expect(await c.rpc('echo', { nested: [1, 'é', null] })).toEqual({ nested: [1, 'é', null] });
    expect(await c.rpc('echo')).toBeNull();

    // @ts-expect-error: no such method in the config.
    expect((await refusal(c.rpc('nope'))).code).toBe('unknown_method');
    // @ts-expect-error: the args have the method's schema type.
    const badArgs = await refusal(c.rpc('add', { a: '2', b: 3 }));
    expect(badArgs.code).toBe('invalid_args');
    expect(badArgs.details).toMatchObject({ issues: [{ path: 'a' }] });
    const failed = await refusal(c.rpc('fail'));
    expect({ code: failed.code, message: failed.message }).toEqual({ code: 'rpc_failed', message: 'fail: boom' });
    expect((await refusal(c.rpc('deny'))).code).toBe('forbidden');
    expect(c.state).toBe('connected');
  });

  it('stops a handler past its deadline (timeout, signal aborted) while other clients are served', async () => {
    const server = await startServer(config);
    const c = await client(server, 'alice');
    const other = await client(server, 'bob');
    aborted = 0;
    const slow = refusal(c.rpc('slow'));
    expect(await other.rpc('echo', 1)).toBe(1);
    const e = await slow;
    expect(e.code).toBe('timeout');
    await waitFor(
      () => aborted === 1,
      2_000,
      () => `aborted ${aborted}`,
    );
  });

  it('needs the rpc capability on the method name, and bounds calls per connection by rate and concurrency', async () => {
    const server = await startServer({ ...config, limits: { rpcRatePerSec: 0.2, rpcBurst: 4, rpcConcurrency: 2 } });
    const limited = await client(server, 'carol', {
      token: await token('carol', [
        { match: 'add', allow: ['rpc'] },
        { match: 'wait', allow: ['rpc'] },
      ]),
    });
    expect(await limited.rpc('add', { a: 1, b: 1 })).toEqual({ sum: 2, user: 'carol' });
    const denied = await refusal(limited.rpc('echo', 1));
    expect(denied.code).toBe('forbidden');
    // Unknown methods look the same as refused ones to a token without the capability.
    expect((await refusal(limited.rpc('secret'))).code).toBe('forbidden');

    // Two calls may run at once: the third gets rate_limited (rpcConcurrency); the rest of the burst is used.
    const running = [limited.rpc('wait', 200), limited.rpc('wait', 200)];
    const third = await refusal(limited.rpc('wait', 1));
    expect(third.code).toBe('rate_limited');
    expect(third.details).toMatchObject({ limit: 'rpcConcurrency' });
    expect(await Promise.all(running)).toEqual(['done', 'done']);
    const overRate = await refusal(limited.rpc('add', { a: 1, b: 1 }));
    expect(overRate.code).toBe('rate_limited');
    expect(overRate.retryAfterMs).toBeGreaterThan(0);
  });
});
