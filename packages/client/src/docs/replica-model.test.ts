import { type DocOp, defineMutators, resolveMutator, type Transaction } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import type { Entry } from './pending-entry.js';
import { ReplicaModel } from './replica-model.js';

interface Todos {
  items: string[];
  count: number;
}

const mutators = defineMutators({
  add(tx: Transaction<Todos>, args: { text: string }) {
    tx.draft.items.push(args.text);
  },
  inc(tx: Transaction<Todos>) {
    tx.draft.count += 1;
  },
  /** Fails once the count is above `max`: a mutation that a rebase can invalidate. */
  incUpTo(tx: Transaction<Todos>, args: { max: number }) {
    if (tx.draft.count >= args.max) throw new Error(`count is already ${args.max}`);
    tx.draft.count += 1;
  },
});

const EMPTY: Todos = { items: [], count: 0 };

function model(): ReplicaModel {
  const m = new ReplicaModel(mutators, 'todos:1', () => 'alice');
  m.setConfirmed(0, EMPTY);
  m.rebase();
  return m;
}

/** Runs a mutation the way a replica does: speculate on the visible state, then queue it. */
function mutate(m: ReplicaModel, name: keyof typeof mutators, args: unknown): Entry {
  const resolved = resolveMutator(mutators, name);
  if (!resolved) throw new Error(`no mutator ${name}`);
  const ran = m.speculate(resolved, name, args, 1_000);
  return m.enqueue(name, args, args, 1_000, ran ? ran.state : m.visible);
}

/** A server op at `version` that appends `text` (from another client unless `own` says whose mutation it is). */
function addOp(version: number, text: string, index: number, own?: { clientId: string; mutationId: number }): DocOp {
  return { version, patches: [{ op: 'add', path: ['items', index], value: text }], ts: 2_000, ...own };
}

const ids = (m: ReplicaModel): number[] => m.pending.map((e) => e.id);

describe('ReplicaModel', () => {
  it('keeps pending mutations in id order and shows them on top of the confirmed state', () => {
    const m = model();
    mutate(m, 'add', { text: 'a' });
    mutate(m, 'inc', {});
    mutate(m, 'add', { text: 'b' });
    expect(ids(m)).toEqual([1, 2, 3]);
    expect(m.visible).toEqual({ items: ['a', 'b'], count: 1 });
    expect(m.confirmed).toEqual({ version: 0, state: EMPTY });
    expect(m.record()).toMatchObject({
      nextMutationId: 4,
      pending: [
        { id: 1, name: 'add', args: { text: 'a' } },
        { id: 2, name: 'inc' },
        { id: 3, name: 'add', args: { text: 'b' } },
      ],
    });
  });

  it('a mutator that throws is mutation_failed and queues nothing', () => {
    const m = model();
    const resolved = resolveMutator(mutators, 'incUpTo');
    if (!resolved) throw new Error('no mutator');
    expect(() => m.speculate(resolved, 'incUpTo', { max: 0 }, 1)).toThrow(
      expect.objectContaining({ code: 'mutation_failed' }),
    );
    expect(ids(m)).toEqual([]);
  });

  it('rebases pending mutations on a server op from another client', () => {
    const m = model();
    mutate(m, 'add', { text: 'mine' });
    expect(m.applyOp(addOp(1, 'theirs', 0))).toBe(true);
    m.rebase();
    expect(m.confirmed).toEqual({ version: 1, state: { items: ['theirs'], count: 0 } });
    expect(m.visible).toEqual({ items: ['theirs', 'mine'], count: 0 });
    expect(ids(m)).toEqual([1]);
  });

  it('a pending mutation that no longer applies after a rebase shows no effect (the server decides)', () => {
    const m = model();
    mutate(m, 'incUpTo', { max: 1 });
    expect(m.visible).toEqual({ items: [], count: 1 });
    m.applyOp({ version: 1, patches: [{ op: 'replace', path: ['count'], value: 1 }], ts: 1 });
    m.rebase();
    expect(m.visible).toEqual({ items: [], count: 1 });
    expect(ids(m)).toEqual([1]);
  });

  it('an own op confirms its mutation and resolves its waiters with the version', () => {
    const m = model();
    const e = mutate(m, 'add', { text: 'mine' });
    const results: unknown[] = [];
    e.waiters.push({ resolve: (r) => results.push(r), reject: () => results.push('rejected') });
    mutate(m, 'add', { text: 'next' });
    m.applyOp(addOp(1, 'mine', 0, { clientId: m.clientId, mutationId: 1 }));
    m.rebase();
    expect(results).toEqual([{ version: 1 }]);
    expect(ids(m)).toEqual([2]);
    expect(m.visible).toEqual({ items: ['mine', 'next'], count: 0 });
  });

  it('moves the confirmed version only one step at a time: a gap is refused, an old op is ignored', () => {
    const m = model();
    expect(m.applyOp(addOp(1, 'a', 0))).toBe(true);
    expect(m.applyOp(addOp(3, 'c', 1))).toBe(false);
    expect(m.confirmed?.version).toBe(1);
    expect(m.applyOp(addOp(1, 'again', 0))).toBe(true);
    expect(m.applyOp(addOp(2, 'b', 1))).toBe(true);
    expect(m.confirmed).toEqual({ version: 2, state: { items: ['a', 'b'], count: 0 } });
    m.setConfirmed(10, { items: ['snap'], count: 5 });
    expect(m.applyOp(addOp(11, 'after', 1))).toBe(true);
    expect(m.confirmed).toEqual({ version: 11, state: { items: ['snap', 'after'], count: 5 } });
  });

  it('without a confirmed state every op is a gap', () => {
    const m = new ReplicaModel(mutators, 'todos:1', () => undefined);
    expect(m.applyOp(addOp(1, 'a', 0))).toBe(false);
    expect(m.confirmed).toBeUndefined();
  });

  it('rolls back a rejected mutation alone, or with every later one (their ids are reused)', () => {
    const m = model();
    mutate(m, 'add', { text: 'a' });
    const second = mutate(m, 'add', { text: 'b' });
    mutate(m, 'add', { text: 'c' });
    expect(m.rollBack(second, false).map((e) => e.id)).toEqual([2]);
    m.rebase();
    expect(ids(m)).toEqual([1, 3]);
    expect(m.visible).toEqual({ items: ['a', 'c'], count: 0 });
    expect(m.rollBack(second, false)).toEqual([]);

    const n = model();
    mutate(n, 'add', { text: 'a' });
    const b = mutate(n, 'add', { text: 'b' });
    mutate(n, 'add', { text: 'c' });
    expect(n.rollBack(b, true).map((e) => e.id)).toEqual([2, 3]);
    expect(mutate(n, 'add', { text: 'd' }).id).toBe(2);
  });

  it('dropAcked drops an acknowledged entry only once the confirmed state reached its version', () => {
    const m = model();
    const e = mutate(m, 'add', { text: 'mine' });
    mutate(m, 'inc', {});
    e.ackedVersion = 2;
    m.applyOp(addOp(1, 'theirs', 0));
    expect(m.dropAcked()).toBe(false);
    expect(ids(m)).toEqual([1, 2]);
    m.applyOp(addOp(2, 'mine', 1));
    expect(m.dropAcked()).toBe(true);
    m.rebase();
    expect(ids(m)).toEqual([2]);
    expect(m.visible).toEqual({ items: ['theirs', 'mine'], count: 1 });
  });

  it('an own op past an earlier sent mutation marks it orphan: its rejection is on its way', () => {
    const m = model();
    const first = mutate(m, 'add', { text: 'refused' });
    const second = mutate(m, 'add', { text: 'ok' });
    for (const e of [first, second]) {
      e.sendSeq = 1;
      e.waiters.push({ resolve: () => undefined, reject: () => undefined });
    }
    m.applyOp(addOp(1, 'ok', 0, { clientId: m.clientId, mutationId: 2 }));
    expect(ids(m)).toEqual([]);
    expect(m.takeOrphan(first)).toBe(true);
    expect(m.takeOrphan(first)).toBe(false);
    expect(m.takeOrphan(second)).toBe(false);
  });

  it('skipIdsUpTo never reuses ids the server saw; expire renumbers what was never applied', () => {
    const m = model();
    m.skipIdsUpTo(7);
    const sent = mutate(m, 'add', { text: 'maybe applied' });
    const fresh = mutate(m, 'add', { text: 'never sent' });
    const acked = mutate(m, 'inc', {});
    expect([sent.id, fresh.id, acked.id]).toEqual([8, 9, 10]);
    sent.maybeApplied = true;
    acked.ackedVersion = 4;
    const oldId = m.clientId;
    expect(m.expire().map((e) => e.args)).toEqual([{ text: 'maybe applied' }]);
    expect(m.clientId).not.toBe(oldId);
    expect(m.pending.map((e) => [e.id, e.args])).toEqual([[1, { text: 'never sent' }]]);
    expect(mutate(m, 'inc', {}).id).toBe(2);
  });
});
