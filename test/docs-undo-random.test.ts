import type { DocReplica } from '@syncline/client';
import type { SynclineError } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { prng, type TestState, testDocNamespace, undoMutators } from './docs-fixtures.js';
import { client, startServer, waitForValue } from './helpers.js';

const mutators = undoMutators;

type Replica = DocReplica<TestState, typeof mutators>;

const EDITORS = 3;
const ACTIONS_PER_EDITOR = 40;

describe('document undo (seeded)', () => {
  it('editors that edit, undo, redo and drop their connection at random converge, with no item twice', async () => {
    const seed = Number(process.env.SYNCLINE_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`docs undo seed: ${seed} (replay with SYNCLINE_SEED=${seed})`);
    const rng = prng(seed);
    const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(rng() * xs.length)];
    const server = await startServer({ docs: { todo: testDocNamespace({ mutators, undo: true }) } });
    const users = Array.from({ length: EDITORS }, (_, i) => `u${i}`);
    const clients = await Promise.all(users.map((u) => client(server, u)));
    const replicas = clients.map((c) => c.doc('todo:random', { mutators, undo: true }) as Replica);
    const unexpected: SynclineError[] = [];
    for (const r of replicas) r.on('error', (e) => unexpected.push(e));
    await Promise.all(replicas.map((r) => r.ready));

    const settle: Promise<unknown>[] = [];
    const quiet = (p: Promise<unknown>) => settle.push(p.catch(() => undefined));
    let n = 0;
    for (let step = 0; step < EDITORS * ACTIONS_PER_EDITOR; step++) {
      const i = Math.floor(rng() * EDITORS);
      const r = replicas[i] as Replica;
      const c = clients[i];
      const mine = (r.current?.items ?? []).filter((x) => x.by === users[i]);
      const roll = rng();
      if (roll < 0.05) {
        if (c?.state === 'connected') c.disconnect();
        else c?.connect();
      } else if (roll < 0.25) {
        quiet(r.undo());
      } else if (roll < 0.35) {
        quiet(r.redo());
      } else if (roll < 0.5) {
        const id = `i${n++}`;
        quiet(rng() < 0.5 ? r.mutate.addItem({ id, text: id }) : r.mutate.insertFirst({ id, text: id }));
      } else if (roll < 0.6) {
        const item = pick(mine);
        if (item) quiet(r.mutate.removeItem({ id: item.id }));
      } else if (roll < 0.75) {
        const item = pick(r.current?.items ?? []);
        if (item) quiet(r.mutate.rename({ id: item.id, text: `${users[i]}-${n++}` }));
      } else if (roll < 0.9) {
        quiet(r.mutate.setCount({ value: Math.floor(rng() * 100) }));
      } else {
        r.batch(() => {
          quiet(r.mutate.tally({ key: users[i] as string }));
          quiet(r.mutate.addItem({ id: `b${n++}`, text: 'batch' }));
        });
      }
      if (rng() < 0.3) await new Promise((resolve) => setTimeout(resolve, rng() * 10));
    }
    for (const c of clients) if (c.state !== 'connected') c.connect();
    await Promise.all(settle);
    const target = await server.docs.get('todo:random');
    await waitForValue(
      () => replicas.map((r) => `${r.status} v${r.version}`),
      replicas.map(() => `synced v${target.version}`),
      20_000,
      'replicas',
    );
    for (const r of replicas) expect(r.current, `seed ${seed}`).toEqual(target.state);
    const ids = (target.state as TestState).items.map((x) => x.id);
    expect(new Set(ids).size, `seed ${seed}: ${ids.join(',')}`).toBe(ids.length);
    expect(unexpected, `seed ${seed}`).toEqual([]);
  });
});
