import { applyPatches, runMutator, type Transaction } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { jsonBytes, sizePatches } from './doc-size.js';

/** Seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Doc = { items: unknown[]; map: Record<string, unknown>; nested: { list: unknown[] } };

const TEXTS = ['', 'a', 'héllo', '"quoted"', '日本語', '🎉🎉', 'line\nbreak', '\u0001ctl'];

function randomValue(rand: () => number, depth = 0): unknown {
  const k = Math.floor(rand() * (depth > 2 ? 4 : 6));
  if (k === 0) return Math.floor(rand() * 100_000) - 500;
  if (k === 1) return TEXTS[Math.floor(rand() * TEXTS.length)];
  if (k === 2) return rand() < 0.5;
  if (k === 3) return null;
  if (k === 4) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = 0; i < Math.floor(rand() * 4); i++) o[`k${Math.floor(rand() * 6)}`] = randomValue(rand, depth + 1);
  return o;
}

function randomEdit(rand: () => number): (tx: Transaction<Doc>) => void {
  const v = randomValue(rand);
  const key = `key-${Math.floor(rand() * 8)}${TEXTS[Math.floor(rand() * TEXTS.length)]}`;
  const i = Math.floor(rand() * 5);
  const edits: Array<(tx: Transaction<Doc>) => void> = [
    (tx) => tx.draft.items.push(v),
    (tx) => tx.draft.items.shift(),
    (tx) => tx.draft.items.unshift(v),
    (tx) => tx.draft.items.splice(i, 2),
    (tx) => tx.draft.items.splice(i, 1, v, v),
    (tx) => {
      tx.draft.items.length = Math.min(tx.draft.items.length, i);
    },
    (tx) => {
      tx.draft.map[key] = v;
    },
    (tx) => {
      delete tx.draft.map[key];
    },
    (tx) => {
      tx.draft.nested.list = tx.draft.nested.list.filter((_, j) => j % 2 === 0);
    },
    (tx) => tx.draft.nested.list.push(v, v),
    (tx) => {
      if (tx.draft.items.length > 0) tx.draft.items[0] = v;
    },
  ];
  const a = edits[Math.floor(rand() * edits.length)] as (tx: Transaction<Doc>) => void;
  const b = edits[Math.floor(rand() * edits.length)] as (tx: Transaction<Doc>) => void;
  if (rand() >= 0.3) return a;
  return (tx) => {
    a(tx);
    b(tx);
  };
}

const META = {
  doc: 'd:1',
  clientId: undefined,
  mutationId: undefined,
  userId: undefined,
  timestamp: 0,
  location: 'server',
} as const;

describe('document size from patches', () => {
  it('tracks the exact JSON size within its slack over random mutations', () => {
    const seed = Number(process.env.SEED ?? Date.now() % 100_000);
    const rand = prng(seed);
    let state: Doc = { items: [], map: {}, nested: { list: [] } };
    let estimate = jsonBytes(state);
    let slack = 0;
    for (let n = 0; n < 3_000; n++) {
      const edit = randomEdit(rand);
      const r = runMutator(state, (tx) => edit(tx as Transaction<Doc>), null, META);
      const sized = sizePatches(r.patches, r.inversePatches);
      state = applyPatches(state, sized.patches);
      estimate += sized.deltaBytes;
      slack += sized.slackBytes;
      const exact = jsonBytes(state);
      if (Math.abs(exact - estimate) > slack) {
        throw new Error(`seed ${seed}, step ${n}: estimate ${estimate}, exact ${exact}, slack ${slack}`);
      }
      // Drift stays small: a few bytes per emptied or filled container (up to two a mutation, e.g.
      // `[]` ↔ `[x]` with its comma), never a share of the document.
      expect(Math.abs(exact - estimate), `seed ${seed}, step ${n}`).toBeLessThanOrEqual(2 * (n + 1));
    }
  });

  it('round-trips the patches through JSON as before', () => {
    const r = runMutator(
      { a: [1] } as { a: unknown[] },
      (tx) => {
        (tx.draft as { a: unknown[] }).a.push({ d: new Date(0), u: undefined });
      },
      null,
      META,
    );
    expect(sizePatches(r.patches, r.inversePatches).patches).toEqual(JSON.parse(JSON.stringify(r.patches)));
  });
});
