import { SynclineError } from '@syncline/protocol';
import { RedisBroker } from '@syncline/redis';
import type { PublishOutcome } from '@syncline/server';
import { eventually } from '@syncline/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { type PrivateRedis, redisService, startPrivateRedis } from './cluster/redis-env.js';
import { defer } from './helpers.js';

const HISTORY = { size: 100, ttlMs: 600_000 };
const PREFIX = 'syncline-replica-ack:';
const ACK_TIMEOUT_MS = 300;
/** What the `timeout` answer may take beyond `ACK_TIMEOUT_MS` (a WAIT in flight, round trips, a busy machine). */
const MARGIN_MS = 1_500;

interface Pair {
  readonly master: PrivateRedis;
  readonly replica: PrivateRedis;
  /** A plain connection to the replica, to read what it has. */
  readonly onReplica: Redis;
}

/** A private master and its replica (link up), cleaned up after the test. */
async function startPair(): Promise<Pair> {
  const master = await startPrivateRedis();
  const replica = await startPrivateRedis({ replicaOf: master.port });
  const onReplica = new Redis(replica.url, { maxRetriesPerRequest: 1 });
  onReplica.on('error', () => undefined);
  defer(() => onReplica.disconnect());
  return { master, replica, onReplica };
}

async function broker(url: string, ackReplicas?: number): Promise<RedisBroker> {
  const b = await RedisBroker.connect({
    url,
    prefix: PREFIX,
    ...(ackReplicas === undefined ? {} : { ackReplicas, ackTimeoutMs: ACK_TIMEOUT_MS }),
  });
  defer(() => b.close());
  return b;
}

/** The data of the entries the replica's stream of `channel` holds. */
async function replicaEntries(pair: Pair, channel: string): Promise<Array<{ offset: number; data: unknown }>> {
  const raw = await pair.onReplica.xrange(`${PREFIX}{${channel}}:s`, '-', '+');
  return raw.map(([id, fields]) => ({ offset: Number.parseInt(id, 10), data: JSON.parse(fields[1] ?? 'null') }));
}

/** Publishes and reports how it ended and how long it took. */
async function timed(
  b: RedisBroker,
  channel: string,
  data: unknown,
  key: string,
): Promise<{ outcome?: PublishOutcome; code?: string; ms: number }> {
  const start = performance.now();
  try {
    const outcome = await b.publish({ channel, data, key, history: HISTORY });
    return { outcome, ms: performance.now() - start };
  } catch (err) {
    return { code: err instanceof SynclineError ? err.code : String(err), ms: performance.now() - start };
  }
}

/** Resends `key` until it is acknowledged (as the SDK does on `timeout`), within a deadline. */
async function resendUntilAcked(b: RedisBroker, channel: string, data: unknown, key: string): Promise<PublishOutcome> {
  let last: { outcome?: PublishOutcome; code?: string } = {};
  await eventually(
    async () => {
      last = await timed(b, channel, data, key);
      return last.outcome !== undefined;
    },
    'the resend to be acknowledged',
    10_000,
  );
  return last.outcome as PublishOutcome;
}

describe.runIf(redisService.available)('acknowledgements that wait for Redis replicas (ackReplicas)', () => {
  it('acknowledges a publish only once the replica has it', async () => {
    const pair = await startPair();
    const b = await broker(pair.master.url, 1);
    const channel = 'chat:acked';
    for (let n = 1; n <= 20; n++) {
      const out = await b.publish({ channel, data: { n }, key: `u:k${n}`, history: HISTORY });
      // Read at once: WAIT returned, so the replica already applied this write.
      const onReplica = await replicaEntries(pair, channel);
      expect(onReplica.at(-1)).toEqual({ offset: out.offset, data: { n } });
    }
    // Concurrent publishes share WAITs and are each confirmed.
    const outs = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        b.publish({ channel, data: { n: 100 + i }, key: `u:c${i}`, history: HISTORY }),
      ),
    );
    const onReplica = new Map((await replicaEntries(pair, channel)).map((e) => [e.offset, e.data]));
    expect(outs.map((o) => onReplica.get(o.offset))).toEqual(outs.map((_, i) => ({ n: 100 + i })));
  });

  it('answers timeout while the replica is stopped; a resend after it is back is a duplicate at the same offset', async () => {
    const pair = await startPair();
    const b = await broker(pair.master.url, 1);
    const channel = 'chat:stopped';
    await b.publish({ channel, data: { n: 0 }, key: 'u:k0', history: HISTORY });

    pair.replica.signal('SIGSTOP');
    const stopped = await timed(b, channel, { n: 1 }, 'u:k1');
    expect(stopped.code).toBe('timeout');
    expect(stopped.ms).toBeGreaterThanOrEqual(ACK_TIMEOUT_MS - 50);
    expect(stopped.ms).toBeLessThan(ACK_TIMEOUT_MS + MARGIN_MS);
    // Outcome unknown, but in fact stored on the master (and fanned out).
    const onMaster = await b.history(channel, { since: 0, limit: 10, history: HISTORY });
    expect(onMaster.publications.map((p) => p.data)).toEqual([{ n: 0 }, { n: 1 }]);

    pair.replica.signal('SIGCONT');
    const again = await resendUntilAcked(b, channel, { n: 1 }, 'u:k1');
    expect(again).toEqual({ epoch: onMaster.epoch, offset: 2, duplicate: true });
    expect(await replicaEntries(pair, channel)).toEqual([
      { offset: 1, data: { n: 0 } },
      { offset: 2, data: { n: 1 } },
    ]);
  });

  it('waits for the replica on a duplicate too: its first publication may not be replicated yet', async () => {
    const pair = await startPair();
    const plain = await broker(pair.master.url);
    const acked = await broker(pair.master.url, 1);
    const channel = 'chat:dup';

    pair.replica.signal('SIGSTOP');
    // Acknowledged by a node that does not wait, so not on the replica.
    const first = await plain.publish({ channel, data: { n: 1 }, key: 'u:k1', history: HISTORY });
    const dup = await timed(acked, channel, { n: 1 }, 'u:k1');
    expect(dup.code).toBe('timeout');
    expect(dup.ms).toBeLessThan(ACK_TIMEOUT_MS + MARGIN_MS);

    pair.replica.signal('SIGCONT');
    const again = await resendUntilAcked(acked, channel, { n: 1 }, 'u:k1');
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await replicaEntries(pair, channel)).toEqual([{ offset: 1, data: { n: 1 } }]);
  });

  it('does not wait by default (ackReplicas 0): acknowledged while the replica is stopped', async () => {
    const pair = await startPair();
    const b = await broker(pair.master.url);
    pair.replica.signal('SIGSTOP');
    const out = await timed(b, 'chat:default', { n: 1 }, 'u:k1');
    expect(out.outcome).toEqual({ epoch: expect.any(String), offset: 1, duplicate: false });
    expect(out.ms).toBeLessThan(ACK_TIMEOUT_MS);
  });

  it('refuses a timeout WAIT could not honour', () => {
    expect(() => new RedisBroker({ url: 'redis://127.0.0.1:1', ackReplicas: 1, ackTimeoutMs: 0 })).toThrow(
      /ackTimeoutMs/,
    );
    expect(
      () =>
        new RedisBroker({ url: 'redis://127.0.0.1:1', ackReplicas: 1, ackTimeoutMs: 3_000, commandTimeoutMs: 2_500 }),
    ).toThrow(/ackTimeoutMs/);
    expect(() => new RedisBroker({ url: 'redis://127.0.0.1:1', ackReplicas: -1 })).toThrow(/ackReplicas/);
  });
});
