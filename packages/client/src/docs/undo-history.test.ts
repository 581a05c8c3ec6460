import { applyUndoStep, type DocPatch, runMutator, type UndoStep } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { effectEdits, invertEdits, transformSteps } from './undo-effect.js';
import { UndoHistory } from './undo-history.js';

interface S {
  items: string[];
  title: string;
  meta?: { by: string };
}

const META = { doc: 'd:1', clientId: 'c', mutationId: 1, userId: undefined, timestamp: 0, location: 'client' } as const;

/** Runs `fn` on `state`: the new state, and the steps that undo it. */
function edit(
  state: S,
  fn: (draft: S) => void,
): { state: S; steps: UndoStep[]; edits: ReturnType<typeof effectEdits> } {
  const r = runMutator(state, (tx) => fn(tx.draft), undefined, META);
  const edits = effectEdits(state, r.state, r.patches as DocPatch[]);
  return { state: r.state, steps: invertEdits(edits), edits };
}

/** Applies checked steps the way the `$undo` mutator does. */
function undoOn(state: S, steps: readonly UndoStep[]): S {
  return runMutator(
    state,
    (tx) => {
      for (const s of steps) applyUndoStep(tx.draft, s);
    },
    undefined,
    META,
  ).state;
}

const base: S = { items: ['a', 'b', 'c', 'd'], title: 't' };

describe('undo steps', () => {
  it.each([
    ['push', (d: S) => void d.items.push('e')],
    ['splice out', (d: S) => void d.items.splice(1, 1)],
    ['splice in', (d: S) => void d.items.splice(1, 0, 'x', 'y')],
    ['shift', (d: S) => void d.items.shift()],
    [
      'truncate',
      (d: S) => {
        d.items.length = 1;
      },
    ],
    [
      'replace field',
      (d: S) => {
        d.title = 'u';
      },
    ],
    [
      'add key',
      (d: S) => {
        d.meta = { by: 'me' };
      },
    ],
    [
      'several',
      (d: S) => {
        d.title = 'u';
        d.items.reverse();
        d.meta = { by: 'me' };
      },
    ],
  ])('reverts %s exactly', (_name, fn) => {
    const e = edit(base, fn);
    expect(undoOn(e.state, e.steps)).toEqual(base);
  });

  it('removes a key the mutation added, and restores one it deleted', () => {
    const withMeta = { ...base, meta: { by: 'x' } };
    const e = edit(withMeta, (d) => void delete d.meta);
    expect(undoOn(e.state, e.steps)).toEqual(withMeta);
  });

  it('skips a value someone else changed since, and keeps the others', () => {
    const e = edit(base, (d) => {
      d.title = 'mine';
      d.items[1] = 'B';
    });
    const other = edit(e.state, (d) => {
      d.title = 'theirs';
    });
    const steps = transformSteps(e.steps, other.edits);
    expect(undoOn(other.state, steps)).toEqual({ items: ['a', 'b', 'c', 'd'], title: 'theirs' });
  });

  it('follows array indices past others’ inserts and removals', () => {
    const e = edit(base, (d) => void d.items.splice(2, 1)); // removes 'c'
    const ins = edit(e.state, (d) => void d.items.unshift('z')); // someone inserts at the front
    const rem = edit(ins.state, (d) => void d.items.pop()); // and removes the last one
    const steps = transformSteps(transformSteps(e.steps, ins.edits), rem.edits);
    expect(undoOn(rem.state, steps)).toEqual({ items: ['z', 'a', 'b', 'c'], title: 't' });
  });

  it('undoing an insert removes the inserted item where it went, not what is now at its old index', () => {
    const e = edit(base, (d) => void d.items.splice(1, 0, 'mine'));
    const ins = edit(e.state, (d) => void d.items.splice(1, 0, 'theirs'));
    const steps = transformSteps(e.steps, ins.edits);
    expect(undoOn(ins.state, steps).items).toEqual(['a', 'theirs', 'b', 'c', 'd']);
  });

  it('drops steps into a value someone else removed', () => {
    const nested = { ...base, meta: { by: 'x' } };
    const e = edit(nested, (d) => {
      (d.meta as { by: string }).by = 'me';
    });
    const del = edit(e.state, (d) => void delete d.meta);
    expect(transformSteps(e.steps, del.edits)).toEqual([]);
  });

  it('a step whose parent is missing or whose check fails is skipped', () => {
    const s: S = { items: ['a'], title: 't' };
    expect(applyUndoStep(structuredClone(s), { op: 'replace', path: ['title'], expect: 'x', value: 'y' })).toBe(false);
    expect(applyUndoStep(structuredClone(s), { op: 'remove', path: ['nope', 'x'], expect: 1 })).toBe(false);
    expect(applyUndoStep(structuredClone(s), { op: 'add', path: ['title'], value: 1 })).toBe(false);
    expect(applyUndoStep(structuredClone(s), { op: 'add', path: ['items', 'k'], value: 1 })).toBe(false);
    expect(applyUndoStep(structuredClone(s), { op: 'remove', path: ['items', 5], expect: 'a' })).toBe(false);
  });
});

/** Takes a group and returns its steps, as `undo()` does. */
function taken(h: UndoHistory, stack: 'undo' | 'redo', isPending: (key: object) => boolean): UndoStep[] | undefined {
  const group = h.take(stack, isPending);
  return group && h.stepsOf(group, isPending);
}

describe('UndoHistory', () => {
  const pending = () => true;
  const step = (n: number): UndoStep[] => [{ op: 'replace', path: ['n'], expect: n, value: n - 1 }];

  it('undo takes the newest group; a new edit clears the redo stack', () => {
    const h = new UndoHistory();
    h.record({}, step(1), 'edit');
    h.record({}, step(2), 'edit');
    expect(taken(h, 'undo', pending)).toEqual(step(2));
    h.record({}, step(-2), 'undo');
    expect(h.canRedo).toBe(true);
    h.record({}, step(3), 'edit');
    expect(h.canRedo).toBe(false);
    expect(taken(h, 'undo', pending)).toEqual(step(3));
    expect(taken(h, 'undo', pending)).toEqual(step(1));
    expect(taken(h, 'undo', pending)).toBeUndefined();
  });

  it('a batch is one group, its parts reverted newest first', () => {
    const h = new UndoHistory();
    h.beginBatch();
    h.record({}, step(1), 'edit');
    h.beginBatch();
    h.record({}, step(2), 'edit');
    h.endBatch();
    h.endBatch();
    h.record({}, step(3), 'edit');
    expect(taken(h, 'undo', pending)).toEqual(step(3));
    expect(taken(h, 'undo', pending)).toEqual([...step(2), ...step(1)]);
    expect(h.canUndo).toBe(false);
  });

  it('keeps at most `depth` groups', () => {
    const h = new UndoHistory(2);
    for (let i = 1; i <= 5; i++) h.record({}, step(i), 'edit');
    expect(taken(h, 'undo', pending)).toEqual(step(5));
    expect(taken(h, 'undo', pending)).toEqual(step(4));
    expect(taken(h, 'undo', pending)).toBeUndefined();
  });

  it('a confirmed part takes the server’s inverse and follows later ops; a rejected one is left out', () => {
    const h = new UndoHistory();
    const a = {};
    const b = {};
    h.record(a, [{ op: 'remove', path: ['items', 0], expect: 'x' }], 'edit');
    h.record(b, step(9), 'edit');
    h.applied([], false, a, [{ op: 'remove', path: ['items', 1], expect: 'x' }]);
    h.applied([{ kind: 'splice', path: ['items'], index: 0, removed: [], inserted: ['o'] }], true);
    expect(taken(h, 'undo', (k) => k !== b)).toEqual([{ op: 'remove', path: ['items', 2], expect: 'x' }]);
  });

  it('reset forgets both stacks', () => {
    const h = new UndoHistory();
    h.record({}, step(1), 'edit');
    h.record({}, step(1), 'undo');
    h.reset();
    expect([h.canUndo, h.canRedo]).toEqual([false, false]);
  });
});
