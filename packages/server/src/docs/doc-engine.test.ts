import { type DocSubscribeResult, defineMutators, type Transaction } from '@syncline/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../storage/sqlite.js';
import { RecordingFanout, versionProblems } from '../testing/recording-fanout.js';
import { DocEngine } from './doc-engine.js';
import { DocNamespaces } from './doc-namespaces.js';
import { MutatorGuard } from './mutator-guard.js';
import { SqliteDocStore } from './sqlite-doc-store.js';

interface Counter {
  count: number;
  by: Record<string, number>;
}

const mutators = defineMutators({
  inc(tx: Transaction<Counter>, args: { by: string }) {
    tx.draft.count += 1;
    tx.draft.by[args.by] = (tx.draft.by[args.by] ?? 0) + 1;
  },
  fail() {
    throw new Error('refused by the mutator');
  },
});

const DOC = 'counter:1';
const opened: Array<{ engine: DocEngine; db: SqliteDatabase }> = [];

/** An engine on a SQLite store in memory (or on `db`), publishing to a recording fan-out. */
function engineOn(db: SqliteDatabase = openDatabase(':memory:'), fanout = new RecordingFanout()) {
  const engine = new DocEngine({
    namespaces: new DocNamespaces({ counter: { mutators, initialState: { count: 0, by: {} }, snapshotEvery: 4 } }),
    store: new SqliteDocStore(db),
    fanout,
    logger: pino({ level: 'silent' }),
    hasSubscribers: () => true,
    guard: new MutatorGuard(1_000),
  });
  opened.push({ engine, db });
  return { engine, fanout, db };
}

afterEach(async () => {
  for (const { engine, db } of opened.splice(0)) {
    await engine.close();
    if (db.open) db.close();
  }
});

const inc = (clientId: string, mutationId: number) => ({ name: 'inc', args: { by: clientId }, clientId, mutationId });

describe('DocEngine (SQLite in memory)', () => {
  it('applies a mutation exactly once per client id and mutation id; a resend is answered as a duplicate', async () => {
    const { engine, fanout } = engineOn();
    expect(await engine.mutate(DOC, inc('c1', 1))).toEqual({ version: 1 });
    expect(await engine.mutate(DOC, inc('c1', 1))).toEqual({ version: 1, duplicate: true });
    expect(await engine.mutate(DOC, inc('c2', 1))).toEqual({ version: 2 });
    expect(await engine.mutate(DOC, inc('c1', 1))).toEqual({ version: 2, duplicate: true });
    expect(await engine.get(DOC)).toEqual({ version: 2, state: { count: 2, by: { c1: 1, c2: 1 } }, schemaVersion: 1 });
    expect(fanout.published.map((m) => [m.version, m.clientId, m.mutationId])).toEqual([
      [1, 'c1', 1],
      [2, 'c2', 1],
    ]);
  });

  it('refuses a mutation id that skips ahead (mutation_out_of_order) and applies nothing', async () => {
    const { engine, fanout } = engineOn();
    await engine.mutate(DOC, inc('c1', 1));
    await expect(engine.mutate(DOC, inc('c1', 3))).rejects.toMatchObject({
      code: 'mutation_out_of_order',
      details: { expected: 2, got: 3 },
    });
    expect(await engine.mutate(DOC, inc('c1', 2))).toEqual({ version: 2 });
    expect(fanout.versions(DOC)).toEqual([1, 2]);
  });

  it('a mutator that throws is mutation_failed: no version, no patch', async () => {
    const { engine, fanout } = engineOn();
    await expect(engine.mutate(DOC, { name: 'fail', args: {}, clientId: 'c1', mutationId: 1 })).rejects.toMatchObject({
      code: 'mutation_failed',
    });
    expect((await engine.get(DOC)).version).toBe(0);
    expect(fanout.published).toEqual([]);
  });

  it('publishes every committed op once, in version order, with its patches, under concurrent clients', async () => {
    const { engine, fanout, db } = engineOn();
    const clients = ['a', 'b', 'c'];
    const settled: Array<[string, number, number]> = [];
    await Promise.all(
      clients.flatMap((c) =>
        Array.from({ length: 10 }, (_, i) =>
          engine.mutate(DOC, inc(c, i + 1), (r) => {
            if (r) settled.push([c, i + 1, r.version]);
          }),
        ),
      ),
    );
    expect(versionProblems(fanout.versions(DOC), 30)).toEqual([]);
    // Replies are settled in the same order as the ops are published.
    expect(settled.map(([, , v]) => v)).toEqual(fanout.versions(DOC));
    // Each client's mutations were applied in id order.
    for (const c of clients) {
      const ids = fanout.published.filter((m) => m.clientId === c).map((m) => m.mutationId);
      expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    }
    const patches = fanout.published[0]?.patches ?? [];
    expect(patches).toHaveLength(2);
    expect(patches).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: ['count'], value: 1 },
        { op: 'add', path: ['by', 'a'], value: 1 },
      ]),
    );
    // A fresh engine on the same database loads the same state (snapshots every 4 versions plus ops).
    const state = await engine.get(DOC);
    const again = engineOn(db).engine;
    expect(await again.get(DOC)).toEqual(state);
    expect(state).toEqual({ version: 30, state: { count: 30, by: { a: 10, b: 10, c: 10 } }, schemaVersion: 1 });
  });

  it('subscribe answers the ops after a version, or a snapshot, and the client’s last mutation id', async () => {
    const { engine } = engineOn();
    for (let i = 1; i <= 3; i++) await engine.mutate(DOC, inc('c1', i));
    const replies: DocSubscribeResult[] = [];
    await engine.subscribe(DOC, { version: 1, clientId: 'c1' }, (r) => replies.push(r));
    await engine.subscribe(DOC, { clientId: 'other' }, (r) => replies.push(r));
    expect(replies[0]?.ops?.map((o) => o.version)).toEqual([2, 3]);
    expect(replies[0]?.lastMutationId).toBe(3);
    expect(replies[1]).toEqual({ version: 3, snapshot: { count: 3, by: { c1: 3 } }, lastMutationId: 0 });
  });

  it('the version check catches a fan-out that loses one op', async () => {
    const fanout = new RecordingFanout();
    fanout.dropVersion(DOC, 5);
    const { engine } = engineOn(openDatabase(':memory:'), fanout);
    for (let i = 1; i <= 8; i++) await engine.mutate(DOC, inc('c1', i));
    expect(versionProblems(fanout.versions(DOC), 8)).toEqual(['missing 5']);
    expect(versionProblems([1, 3, 2, 3], 3)).toEqual(['out of order at 2 after 3']);
  });
});
