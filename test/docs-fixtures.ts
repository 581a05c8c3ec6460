import { defineMutators, type Transaction, withArgs } from '@syncline/protocol';
import type { DocNamespaceOptions } from '@syncline/server';
import * as v from 'valibot';

/** State of the test documents. */
export interface TestState {
  count: number;
  items: Array<{ id: string; text: string; by: string; at: number }>;
  tally: Record<string, number>;
}

/** Mutators shared by the test server and clients. */
export const testMutators = defineMutators({
  increment(tx: Transaction<TestState>, args: { by?: number }) {
    tx.draft.count += args?.by ?? 1;
  },
  tally(tx: Transaction<TestState>, args: { key: string }) {
    tx.draft.tally[args.key] = (tx.draft.tally[args.key] ?? 0) + 1;
  },
  addItem: withArgs(
    v.object({ id: v.string(), text: v.pipe(v.string(), v.maxLength(200)) }),
    (tx: Transaction<TestState>, a) => {
      tx.push('items', { id: a.id, text: a.text, by: tx.userId ?? 'server', at: tx.timestamp });
    },
  ),
  /** Works on the client, fails on the server: the speculative effect must be rolled back. */
  serverRejects(tx: Transaction<TestState>, _args: null) {
    tx.draft.count += 1000;
    if (tx.location === 'server') throw new Error('the server says no');
  },
  /** Sets `count` to anything (breaks the schema with a non-number). */
  setCount(tx: Transaction<TestState>, args: { value: unknown }) {
    tx.set('count', args.value);
  },
});

/** Schema of the test documents. */
export const testSchema = v.object({
  count: v.number(),
  items: v.array(v.object({ id: v.string(), text: v.string(), by: v.string(), at: v.number() })),
  tally: v.record(v.string(), v.number()),
});

/** A document namespace for tests. */
export function testDocNamespace(extra: Partial<DocNamespaceOptions> = {}): DocNamespaceOptions {
  return {
    mutators: testMutators,
    schema: testSchema,
    initialState: { count: 0, items: [], tally: {} },
    ...extra,
  };
}

/** Seeded PRNG (mulberry32), shared with the other randomized tests. */
export { prng } from '@syncline/testing';

/** The test mutators plus the list edits the undo tests make: insert at the front, remove and rename by id. */
export const undoMutators = defineMutators({
  ...testMutators,
  insertFirst(tx: Transaction<TestState>, a: { id: string; text: string }) {
    tx.draft.items.unshift({ id: a.id, text: a.text, by: tx.userId ?? 'server', at: tx.timestamp });
  },
  removeItem(tx: Transaction<TestState>, a: { id: string }) {
    const i = tx.draft.items.findIndex((x) => x.id === a.id);
    if (i >= 0) tx.remove('items', i);
  },
  rename(tx: Transaction<TestState>, a: { id: string; text: string }) {
    const item = tx.draft.items.find((x) => x.id === a.id);
    if (item) item.text = a.text;
  },
});
