import { SynclineError } from '@syncline/protocol';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { checkReplicaAckOptions, ReplicaAck } from './replica-ack.js';

/** A connection whose WAITs the test answers one by one. */
function fakeRedis(): { redis: Redis; waits: Array<{ args: [number, number]; answer: (n: number | Error) => void }> } {
  const waits: Array<{ args: [number, number]; answer: (n: number | Error) => void }> = [];
  const fake = {
    wait(replicas: number, timeoutMs: number): Promise<number> {
      return new Promise<number>((resolve, reject) => {
        waits.push({ args: [replicas, timeoutMs], answer: (n) => (n instanceof Error ? reject(n) : resolve(n)) });
      });
    },
  };
  return { redis: fake as unknown as Redis, waits };
}

const settled = async <T>(p: Promise<T>): Promise<string> => {
  const tick = Symbol('pending');
  const r = await Promise.race([
    p.then(
      () => 'ok',
      (e: unknown) => (e as SynclineError).code,
    ),
    Promise.resolve(tick),
  ]);
  return r === tick ? 'pending' : (r as string);
};

describe('ReplicaAck', () => {
  it('sends one WAIT at a time; callers arriving meanwhile share the next one', async () => {
    const { redis, waits } = fakeRedis();
    const ack = new ReplicaAck(redis, 1, 500);
    const a = ack.confirm();
    const b = ack.confirm();
    expect(waits.map((w) => w.args)).toEqual([[1, 500]]);
    // b arrived after the first WAIT was sent: it is not covered by it.
    waits[0]?.answer(1);
    expect(await a).toBeUndefined();
    expect(await settled(b)).toBe('pending');
    expect(waits).toHaveLength(2);
    const c = ack.confirm();
    waits[1]?.answer(1);
    await b;
    expect(await settled(c)).toBe('pending');
    waits[2]?.answer(2);
    await c;
    expect(waits).toHaveLength(3);
  });

  it('answers the retryable timeout when fewer replicas confirm, or the WAIT fails', async () => {
    const { redis, waits } = fakeRedis();
    const ack = new ReplicaAck(redis, 2, 500);
    const a = ack.confirm();
    waits[0]?.answer(1);
    const err = await a.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynclineError);
    expect(err).toMatchObject({ code: 'timeout', retryAfterMs: expect.any(Number) });
    expect((err as Error).message).toMatch(/fewer than 2 Redis replica\(s\) confirmed it within 500 ms/);
    const b = ack.confirm();
    waits[1]?.answer(new Error('Connection is closed.'));
    expect(await b.catch((e: unknown) => (e as SynclineError).code)).toBe('timeout');
  });
});

describe('checkReplicaAckOptions', () => {
  it('accepts 0 replicas with any timeout, and a timeout from 1 ms to below the command timeout', () => {
    expect(() => checkReplicaAckOptions(0, 0, 2_500)).not.toThrow();
    expect(() => checkReplicaAckOptions(1, 1, 2_500)).not.toThrow();
    expect(() => checkReplicaAckOptions(2, 2_499, 2_500)).not.toThrow();
    expect(() => checkReplicaAckOptions(1, 2_500, 2_500)).toThrow(RangeError);
    expect(() => checkReplicaAckOptions(1, 0, 2_500)).toThrow(/ackTimeoutMs/);
    expect(() => checkReplicaAckOptions(1.5, 100, 2_500)).toThrow(/ackReplicas/);
    expect(() => checkReplicaAckOptions(-1, 100, 2_500)).toThrow(/ackReplicas/);
  });
});
