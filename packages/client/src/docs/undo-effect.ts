import { type DocPatch, jsonEqual, type PathSegment, type UndoStep } from '@syncline/protocol';

/**
 * What one mutation did, in terms that survive others' edits: a splice of an
 * array (mutative reports array edits as positional replaces plus a
 * `length`, which would shift under concurrent inserts), or a change of the
 * value at a path.
 */
export type Edit =
  | {
      readonly kind: 'splice';
      readonly path: readonly PathSegment[];
      readonly index: number;
      readonly removed: readonly unknown[];
      readonly inserted: readonly unknown[];
    }
  | {
      readonly kind: 'set';
      readonly path: readonly PathSegment[];
      /** `[]` when the path was absent. */
      readonly before: readonly [] | readonly [unknown];
      readonly after: readonly [] | readonly [unknown];
    };

function lookup(root: unknown, path: readonly PathSegment[]): readonly [] | readonly [unknown] {
  let cur: unknown = root;
  for (const seg of path) {
    if (typeof cur !== 'object' || cur === null) return [];
    if (Array.isArray(cur)) {
      if (typeof seg !== 'number' || seg >= cur.length) return [];
    } else if (!Object.hasOwn(cur, seg)) {
      return [];
    }
    cur = (cur as Record<PathSegment, unknown>)[seg];
  }
  return [cur];
}

function startsWith(path: readonly PathSegment[], prefix: readonly PathSegment[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => path[i] === s);
}

/** The path a patch changes as a whole: its array when the patch edits an array's items or length. */
function root(before: unknown, after: unknown, p: DocPatch): readonly PathSegment[] {
  if (p.path.length === 0) return p.path;
  const parentPath = p.path.slice(0, -1);
  const parent = lookup(after, parentPath)[0] ?? lookup(before, parentPath)[0];
  return Array.isArray(parent) ? parentPath : p.path;
}

/**
 * The edits that took `before` to `after` through `patches`. An array is
 * compared item by item (by reference, then by value: patches from the
 * server carry copies): the common prefix and suffix are kept, the middle
 * is one splice. The cost is of the order of the arrays a patch touches.
 */
export function effectEdits(before: unknown, after: unknown, patches: readonly DocPatch[]): Edit[] {
  const roots: Array<readonly PathSegment[]> = [];
  for (const p of patches) {
    const r = root(before, after, p);
    if (roots.some((x) => startsWith(r, x))) continue;
    for (let i = roots.length - 1; i >= 0; i--) if (startsWith(roots[i] as PathSegment[], r)) roots.splice(i, 1);
    roots.push(r);
  }
  const edits: Edit[] = [];
  for (const path of roots) {
    const b = lookup(before, path);
    const a = lookup(after, path);
    if (b.length === 1 && a.length === 1 && Array.isArray(b[0]) && Array.isArray(a[0])) {
      const splice = diffArrays(b[0], a[0]);
      if (splice) edits.push({ kind: 'splice', path, ...splice });
    } else if (b.length !== a.length || !jsonEqual(b[0], a[0])) {
      edits.push({ kind: 'set', path, before: b, after: a });
    }
  }
  return edits;
}

function diffArrays(
  b: readonly unknown[],
  a: readonly unknown[],
): { index: number; removed: unknown[]; inserted: unknown[] } | undefined {
  let start = 0;
  while (start < b.length && start < a.length && jsonEqual(b[start], a[start])) start++;
  let endB = b.length;
  let endA = a.length;
  while (endB > start && endA > start && jsonEqual(b[endB - 1], a[endA - 1])) {
    endB--;
    endA--;
  }
  if (endB === start && endA === start) return undefined;
  return { index: start, removed: b.slice(start, endB), inserted: a.slice(start, endA) };
}

/**
 * The checked steps that undo `edits` (see `UndoStep`): applied in order
 * they take the document back where the edits found it, wherever it still
 * holds what the edits left.
 */
export function invertEdits(edits: readonly Edit[]): UndoStep[] {
  const steps: UndoStep[] = [];
  for (const e of [...edits].reverse()) {
    if (e.kind === 'splice') {
      for (let i = e.inserted.length - 1; i >= 0; i--) {
        steps.push({ op: 'remove', path: [...e.path, e.index + i], expect: e.inserted[i] });
      }
      e.removed.forEach((value, i) => {
        steps.push({ op: 'add', path: [...e.path, e.index + i], value });
      });
    } else if (e.path.length > 0) {
      const [had] = e.before;
      if (e.after.length === 0) steps.push({ op: 'add', path: e.path, value: had });
      else if (e.before.length === 0) steps.push({ op: 'remove', path: e.path, expect: e.after[0] });
      else steps.push({ op: 'replace', path: e.path, expect: e.after[0], value: had });
    }
  }
  return steps;
}

/**
 * Moves a step's path past a later edit (anyone's): array indices shift
 * with inserts and removals before them. Undefined when the edit removed or
 * replaced what the step points into: that step no longer applies.
 */
export function transformStep(step: UndoStep, edit: Edit): UndoStep | undefined {
  const p = step.path;
  if (!startsWith(p, edit.path)) return step;
  if (edit.kind === 'set') return edit.path.length === p.length ? step : undefined;
  if (p.length === edit.path.length) return undefined;
  const at = edit.path.length;
  const j = p[at];
  if (typeof j !== 'number') return undefined;
  const delta = edit.inserted.length - edit.removed.length;
  let moved: number;
  if (j < edit.index) moved = j;
  else if (j >= edit.index + edit.removed.length) moved = j + delta;
  else if (step.op === 'add' && p.length === at + 1) moved = edit.index + edit.inserted.length;
  else return undefined;
  if (moved === j) return step;
  const path = [...p];
  path[at] = moved;
  return { ...step, path };
}

/** `transformStep` over a list, dropping the steps that no longer apply. */
export function transformSteps(steps: readonly UndoStep[], edits: readonly Edit[]): UndoStep[] {
  let out = [...steps];
  for (const edit of edits) {
    const next: UndoStep[] = [];
    for (const s of out) {
      const t = transformStep(s, edit);
      if (t) next.push(t);
    }
    out = next;
  }
  return out;
}
