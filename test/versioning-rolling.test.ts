import type { AppUpdate } from '@syncline/client';
import { PostgresDocStore } from '@syncline/postgres';
import { PROTOCOL_VERSION } from '@syncline/protocol';
import { connectRedisCluster } from '@syncline/redis';
import type { ServerOptions, SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { clusterClient } from './cluster/cluster.js';
import { DATABASE_URL, postgresService } from './cluster/postgres-env.js';
import { REDIS_URL, redisService, testPrefix } from './cluster/redis-env.js';
import { describeValue, startServer, waitFor, waitForValue, waitState } from './helpers.js';
import { mutatorsV2, mutatorsV3, type NotesV2, type NotesV3, notesV2, notesV3 } from './versioning-fixtures.js';

const services = redisService.available && postgresService.available;

/** One node of a cluster on the machine's Redis and PostgreSQL, running in this process. */
async function node(prefix: string, options: Partial<ServerOptions>): Promise<SynclineServer> {
  const docStore = await PostgresDocStore.connect({ url: DATABASE_URL, maxConnections: 4 });
  const parts = await connectRedisCluster({ url: REDIS_URL, prefix, docStore });
  return startServer({
    broker: parts.broker,
    presence: parts.presence,
    ...(parts.docFanout ? { docFanout: parts.docFanout } : {}),
    docStore,
    httpTransports: { forwarder: parts.forwarder },
    ...options,
  });
}

describe.runIf(services)('rolling deploy: two server builds on one storage (Redis + PostgreSQL)', () => {
  it('old and new nodes serve the same document and channels to clients on each, without loss', async () => {
    const prefix = testPrefix();
    // The old build: app 1.0.0, speaks only protocol 1. The new build: app 1.1.0, the newest protocol,
    // recommends 1.1.0 to clients. Both run the same document schema (2) and mutator set.
    const old = await node(prefix, {
      app: { version: '1.0.0' },
      protocolRange: { min: 1, max: 1 },
      docs: { notes: notesV2 },
    });
    const neu = await node(prefix, {
      app: { version: '1.1.0', recommendedClientVersion: '1.1.0', message: 'Version 1.1 is out.' },
      docs: { notes: notesV2 },
    });
    const doc = `notes:rolling-${Date.now().toString(36)}`;
    const channel = `chat:rolling-${Date.now().toString(36)}`;

    const onOld = await clusterClient([old.url], 'olive', 0, { app: { version: '1.0.0' } });
    const onNew = await clusterClient([neu.url], 'nina', 0, { app: { version: '1.0.0' } });
    await waitState(onOld, 'connected');
    await waitState(onNew, 'connected');
    expect(onOld.info?.protocol).toBe(1);
    expect(onNew.info?.protocol).toBe(PROTOCOL_VERSION);
    expect(onOld.update.status).toBe('none');
    expect(onNew.update).toMatchObject({ status: 'available', version: '1.1.0', message: 'Version 1.1 is out.' });

    // Channels: each side sees the other's publications.
    const seen: Record<string, unknown[]> = { old: [], new: [] };
    const subOld = onOld.subscribe(channel);
    const subNew = onNew.subscribe(channel);
    subOld.on('publication', (p) => seen.old?.push(p.data));
    subNew.on('publication', (p) => seen.new?.push(p.data));
    await waitForValue(
      () => [subOld.state, subNew.state],
      ['subscribed', 'subscribed'],
      5_000,
      'subscription states (old, new)',
    );

    // Documents: both mutate the same document at once.
    const rOld = onOld.doc(doc, { mutators: mutatorsV2 });
    const rNew = onNew.doc(doc, { mutators: mutatorsV2 });
    await Promise.all([rOld.ready, rNew.ready]);
    const writes: Promise<unknown>[] = [];
    const perSide = 15;
    for (let k = 0; k < perSide; k++) {
      writes.push(rOld.mutate.add({ text: `old-${k}` }), rNew.mutate.add({ text: `new-${k}` }));
      writes.push(onOld.publish(channel, `old-${k}`), onNew.publish(channel, `new-${k}`));
    }
    await Promise.all(writes);
    const total = perSide * 2;
    await waitFor(
      () =>
        [rOld, rNew].every((r) => (r.current as NotesV2 | undefined)?.items.length === total && r.pendingCount === 0),
      20_000,
      () =>
        `wanted ${total} items and nothing pending at both replicas, saw ${[rOld, rNew]
          .map((r) => `${(r.current as NotesV2 | undefined)?.items.length} items, ${r.pendingCount} pending`)
          .join('; ')}`,
    );
    expect(rOld.current).toEqual(rNew.current);
    const texts = (rOld.current as NotesV2).items.map((i) => i.text);
    expect(new Set(texts).size).toBe(total);
    for (const side of ['old', 'new']) {
      const mine = texts.filter((t) => t.startsWith(`${side}-`)).map((t) => Number(t.split('-')[1]));
      expect(mine).toEqual(Array.from({ length: perSide }, (_, k) => k));
    }
    await waitFor(
      () => seen.old?.length === total && seen.new?.length === total,
      10_000,
      () => `wanted ${total} publications on both, saw ${seen.old?.length} on the old, ${seen.new?.length} on the new`,
    );
    expect(seen.old).toEqual(seen.new);
    for (const s of [old, neu]) {
      const got = await s.docs.get(doc);
      expect(got.version).toBe(total);
      expect(got.state).toEqual(rOld.current);
    }

    // The announce on one node reaches the clients of the other.
    const updates: AppUpdate[] = [];
    onNew.on('update', (u) => updates.push(u));
    await old.setAppVersion({ version: '1.1.0', minClientVersion: '1.1.0', message: 'Reload now.' });
    await waitFor(
      () => updates.length === 1,
      10_000,
      () => `wanted 1 update pushed by the other node, saw ${describeValue(updates)}`,
    );
    expect(updates[0]).toMatchObject({ status: 'required', version: '1.1.0' });
    expect(neu.app?.minClientVersion).toBe('1.1.0');
    // Writes of the outdated clients are refused on both nodes; reads go on.
    await expect(rOld.mutate.add({ text: 'late' })).rejects.toMatchObject({ code: 'client_outdated' });
    await expect(onNew.publish(channel, 'late')).rejects.toMatchObject({ code: 'client_outdated' });
    expect((await neu.docs.get(doc)).version).toBe(total);

    // The old node drains; its client moves to the new node, keeps its state and converges.
    const mover = await clusterClient([old.url, neu.url], 'mo', 0, { app: { version: '1.1.0' } });
    const rMover = mover.doc(doc, { mutators: mutatorsV2 });
    await rMover.ready;
    await old.drain({ windowMs: 50 });
    await waitForValue(
      () => ({ state: mover.state, node: mover.nodeUrl() }),
      { state: 'connected', node: neu.url },
      10_000,
      'mover',
    );
    await rMover.mutate.toggle({ index: 0 });
    await waitFor(
      () => (rNew.current as NotesV2).items[0]?.done === true && rMover.version === total + 1,
      10_000,
      () =>
        `wanted the toggle seen everywhere, saw item 0 done ${(rNew.current as NotesV2).items[0]?.done} on the new node, mover at v${rMover.version} (want v${total + 1})`,
    );
    expect(rMover.current).toEqual(rNew.current);
  }, 60_000);

  it('a schema change mid-deploy: the new node migrates, the old node refuses the new shape, its clients lose nothing', async () => {
    const prefix = testPrefix();
    // The old build runs schema 2 with mutator set 2; the new build schema 3 (with the 2 → 3 migration).
    const old = await node(prefix, { docs: { notes: notesV2 } });
    const neu = await node(prefix, { docs: { notes: notesV3 } });
    const doc = `notes:schema-${Date.now().toString(36)}`;

    // Before the new node touches the document, it lives at schema 2 and the old client writes to it.
    const olive = await clusterClient([old.url, neu.url], 'olive', 0, { app: { version: '1.0.0' } });
    const rOld = olive.doc(doc, { mutators: mutatorsV2 });
    await rOld.ready;
    for (const text of ['a', 'b', 'c']) await rOld.mutate.add({ text });
    expect(rOld.current).toEqual({ title: 'Notes', items: ['a', 'b', 'c'].map((text) => ({ text, done: false })) });

    // The new node loads it: one migration op (schema 3) reaches the old node's client through the broker.
    const nina = await clusterClient([neu.url], 'nina', 0, { app: { version: '1.1.0' } });
    const rNew = nina.doc(doc, { mutators: mutatorsV3 });
    await rNew.ready;
    const migrated: NotesV3 = {
      meta: { title: 'Notes' },
      items: ['a', 'b', 'c'].map((text) => ({ text, done: false })),
    };
    expect(rNew.current).toEqual(migrated);
    expect(rNew.version).toBe(4);
    await waitForValue(() => rOld.version, 4, 10_000, "version at the old node's client (the migration op)");
    expect(rOld.current).toEqual(migrated);

    // The old node never runs schema-2 mutators on the schema-3 shape: it refuses the document, retryably.
    await expect(old.docs.get(doc)).rejects.toMatchObject({
      code: 'unavailable',
      details: { schemaVersion: 3, nodeSchemaVersion: 2 },
    });
    const write = rOld.mutate.toggle({ index: 1 });
    // Meanwhile the new node keeps serving writes.
    await rNew.mutate.add({ text: 'd' });
    await waitForValue(() => rOld.version, 5, 10_000, "version at the old node's client (the new node's write)");
    expect(rOld.pendingCount).toBe(1);
    expect((await neu.docs.get(doc)).version).toBe(5);

    // The old node drains; its client moves to the new node and its pending write lands there, once.
    await old.drain({ windowMs: 50 });
    await write;
    await waitForValue(() => olive.nodeUrl(), neu.url, 10_000, "olive's node");
    await waitFor(
      () => rOld.pendingCount === 0 && rOld.version === 6 && rNew.version === 6,
      10_000,
      () =>
        `wanted nothing pending and v6 on both, saw old pending ${rOld.pendingCount} v${rOld.version}, new v${rNew.version}`,
    );
    const final: NotesV3 = {
      meta: { title: 'Notes' },
      items: [
        { text: 'a', done: false },
        { text: 'b', done: true },
        { text: 'c', done: false },
        { text: 'd', done: false },
      ],
    };
    expect(rOld.current).toEqual(final);
    expect(rNew.current).toEqual(final);
    const stored = await neu.docs.get(doc);
    expect(stored).toMatchObject({ version: 6, state: final });
    // The op log records the shape change once, at the version the new node loaded it.
    const ops = await neu.docs.store.opsSince(doc, 3, 10);
    expect(ops !== 'too_old' && ops.map((o) => o.schemaVersion)).toEqual([3, 3, 3]);
    // NotesV2 (the old shape) is gone for good.
    expect((stored.state as Partial<NotesV2>).title).toBeUndefined();
  }, 60_000);
});
