import { PostgresDocStore } from '@syncline/postgres';
import type { DocPatchMessage } from '@syncline/protocol';
import { PubSubBus, RedisDocFanout } from '@syncline/redis';
import { eventually, uniqueName } from '@syncline/testing';
import { describe, expect, it } from 'vitest';
import { DATABASE_URL, postgresService } from './cluster/postgres-env.js';
import { REDIS_URL, redisService, testPrefix, waitForNoSubscriber } from './cluster/redis-env.js';
import { startTcpProxy } from './cluster/tcp-proxy.js';
import { defer, describeValue, waitFor } from './helpers.js';

const services = redisService.available && postgresService.available;

describe.runIf(services)('document ops between nodes (Redis + PostgreSQL)', () => {
  it('a node that misses ops on the bus reads them from PostgreSQL and delivers every version once, in order', async () => {
    const prefix = testPrefix();
    const store = await PostgresDocStore.connect({ url: DATABASE_URL, maxConnections: 2 });
    defer(() => store.close());
    const errors: unknown[] = [];
    const fanout = async (): Promise<RedisDocFanout> => {
      const bus = new PubSubBus({ url: REDIS_URL });
      await bus.connect();
      defer(() => bus.close());
      const f = new RedisDocFanout(bus, store, { prefix, onError: (err) => errors.push(err) });
      defer(() => f.close());
      return f;
    };
    // Two nodes: one writes (commits to PostgreSQL, then publishes), the other has subscribers.
    const writer = await fanout();
    const reader = await fanout();
    const doc = uniqueName('gaps');
    const got: DocPatchMessage[] = [];
    reader.listen(doc, (m) => got.push(m));

    const commit = async (version: number): Promise<DocPatchMessage> => {
      const patches = [{ op: 'add' as const, path: [`v${version}`], value: version }];
      const ts = 1_700_000_000_000 + version;
      await store.commit({ doc, version, patches, ts, clientId: 'c1', mutationId: version });
      return { type: 'doc.patch', doc, version, patches, ts, clientId: 'c1', mutationId: version };
    };
    const m1 = await commit(1);
    // The reader's bus subscription is asynchronous: repeat version 1 until it arrives (repeats are dropped).
    await eventually(
      () => {
        writer.publish(m1);
        return got.length > 0;
      },
      'the reader listens',
      10_000,
    );
    writer.publish(await commit(2));
    // Versions 3 and 4 are committed, but their messages never reach the bus.
    const lost = [await commit(3), await commit(4)];
    writer.publish(await commit(5));
    writer.publish(await commit(6));
    await waitFor(
      () => got.length >= 6,
      10_000,
      () => `wanted versions 1-6 at the reader, saw ${describeValue(got.map((m) => m.version))}`,
    );
    expect(got.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6]);
    // The filled-in ops are the committed ones, as read from PostgreSQL.
    expect(got.slice(2, 4)).toEqual(lost);

    // Late repeats are dropped; the next version follows.
    writer.publish(lost[0] as DocPatchMessage);
    writer.publish(await commit(7));
    await waitFor(
      () => got.length >= 7,
      10_000,
      () => `wanted versions 1-7 at the reader, saw ${describeValue(got.map((m) => m.version))}`,
    );
    expect(got.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(errors).toEqual([]);
  }, 30_000);

  it('after its bus connection came back, a node reads the ops it missed from PostgreSQL (the latest one for a document it had none of yet)', async () => {
    const prefix = testPrefix();
    const store = await PostgresDocStore.connect({ url: DATABASE_URL, maxConnections: 2 });
    defer(() => store.close());
    const errors: unknown[] = [];
    const redis = new URL(REDIS_URL);
    const proxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
    const fanout = async (url: string): Promise<{ bus: PubSubBus; fanout: RedisDocFanout }> => {
      const bus = new PubSubBus({ url });
      await bus.connect();
      defer(() => bus.close());
      const f = new RedisDocFanout(bus, store, { prefix, onError: (err) => errors.push(err) });
      defer(() => f.close());
      return { bus, fanout: f };
    };
    const { bus: writerBus, fanout: writer } = await fanout(REDIS_URL);
    // The reader reaches Redis through a link the test cuts.
    const { fanout: reader } = await fanout(`redis://127.0.0.1:${proxy.port}`);
    const seen = uniqueName('seen');
    const fresh = uniqueName('fresh');
    const got = new Map<string, number[]>([
      [seen, []],
      [fresh, []],
    ]);
    for (const [doc, versions] of got) reader.listen(doc, (m) => versions.push(m.version));
    const commit = async (doc: string, version: number): Promise<DocPatchMessage> => {
      const patches = [{ op: 'add' as const, path: [`v${version}`], value: version }];
      const ts = 1_700_000_000_000 + version;
      await store.commit({ doc, version, patches, ts, clientId: 'c1', mutationId: version });
      return { type: 'doc.patch', doc, version, patches, ts, clientId: 'c1', mutationId: version };
    };
    const m1 = await commit(seen, 1);
    await eventually(
      () => {
        writer.publish(m1);
        return (got.get(seen)?.length ?? 0) > 0;
      },
      'the reader listens',
      10_000,
    );

    proxy.cut('reset');
    // The reader is away once Redis no longer counts its subscriptions.
    await waitForNoSubscriber([`${prefix}dp:${seen}`, `${prefix}dp:${fresh}`]);
    // Committed and published while the reader is away: the bus does not replay them.
    for (const v of [2, 3]) writer.publish(await commit(seen, v));
    for (const v of [1, 2]) writer.publish(await commit(fresh, v));
    // Redis answers a connection's commands in order: the publishes above were handled before this one.
    await writerBus.publish(`${prefix}flush`, '');
    proxy.restore();

    await waitFor(
      () => got.get(seen)?.length === 3 && got.get(fresh)?.length === 1,
      10_000,
      () => `saw ${describeValue([...got])}`,
    );
    expect(got.get(seen)).toEqual([1, 2, 3]);
    // Nothing of it had reached the reader: the latest op (replicas behind it see the gap and resync).
    expect(got.get(fresh)).toEqual([2]);
    expect(errors).toEqual([]);
  }, 30_000);
});
