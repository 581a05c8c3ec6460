import * as v from 'valibot';
import type { PathSegment } from './patches.js';
import type { Transaction } from './transaction.js';

/** Name of the built-in mutator that applies checked undo steps (namespaces opt in with `undo: true`). */
export const UNDO_MUTATOR = '$undo';

/** Most steps one `$undo` mutation may carry. */
export const UNDO_MAX_STEPS = 1_000;

/** Most segments in the path of one undo step. */
export const UNDO_MAX_PATH_SEGMENTS = 32;

/** Longest object key in the path of one undo step, characters. */
export const UNDO_MAX_KEY_LENGTH = 256;

/**
 * One checked step of an undo (or redo). It applies only where the state
 * still holds what the client's own mutation left there; otherwise it is
 * skipped and the rest still apply:
 *
 * - `replace`: the value at `path` exists and deep-equals `expect` → set to `value`;
 * - `remove`: the value at `path` exists and deep-equals `expect` → delete the key,
 *   or remove the array item (later items shift);
 * - `add`: on an object, the key is absent → set to `value`; on an array,
 *   insert `value` before index `path[last]` (at the end when past it).
 *
 * Every parent on `path` must exist; array indices are numbers, object keys strings.
 */
export type UndoStep =
  | { readonly op: 'replace'; readonly path: readonly PathSegment[]; readonly expect: unknown; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: readonly PathSegment[]; readonly expect: unknown }
  | { readonly op: 'add'; readonly path: readonly PathSegment[]; readonly value: unknown };

/** Args of the `$undo` mutator. */
export interface UndoArgs {
  readonly steps: readonly UndoStep[];
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const Segment = v.union([
  v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000_000)),
  v.pipe(
    v.string(),
    v.maxLength(UNDO_MAX_KEY_LENGTH),
    v.check((k) => !FORBIDDEN_KEYS.has(k), 'Reserved object key.'),
  ),
]);
const Path = v.pipe(v.array(Segment), v.minLength(1), v.maxLength(UNDO_MAX_PATH_SEGMENTS));
const JsonValue = v.custom<unknown>((x) => isJson(x, 0), 'Not a JSON value.');

/** Schema of the `$undo` args: bounded, JSON values only, no prototype keys. */
export const UndoArgsSchema = v.strictObject({
  steps: v.pipe(
    v.array(
      v.variant('op', [
        v.strictObject({ op: v.literal('replace'), path: Path, expect: JsonValue, value: JsonValue }),
        v.strictObject({ op: v.literal('remove'), path: Path, expect: JsonValue }),
        v.strictObject({ op: v.literal('add'), path: Path, value: JsonValue }),
      ]),
    ),
    v.maxLength(UNDO_MAX_STEPS),
  ),
});

const MAX_JSON_DEPTH = 64;

function isJson(x: unknown, depth: number): boolean {
  if (depth > MAX_JSON_DEPTH) return false;
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return true;
  if (typeof x === 'number') return Number.isFinite(x);
  if (Array.isArray(x)) return x.every((e) => isJson(e, depth + 1));
  if (typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const [k, e] of Object.entries(x)) if (FORBIDDEN_KEYS.has(k) || !isJson(e, depth + 1)) return false;
  return true;
}

/** Deep equality of JSON values (drafts included). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) {
      return false;
    }
  }
  return true;
}

type Container = Record<string, unknown> | unknown[];

function child(parent: unknown, seg: PathSegment): { ok: true; value: unknown } | { ok: false } {
  if (typeof parent !== 'object' || parent === null) return { ok: false };
  if (Array.isArray(parent)) {
    if (typeof seg !== 'number' || seg >= parent.length) return { ok: false };
    return { ok: true, value: parent[seg] };
  }
  if (typeof seg !== 'string' || !Object.hasOwn(parent, seg)) return { ok: false };
  return { ok: true, value: (parent as Record<string, unknown>)[seg] };
}

/** Applies one checked step to a draft; false when it was skipped. */
export function applyUndoStep(root: unknown, step: UndoStep): boolean {
  let parent: unknown = root;
  for (const seg of step.path.slice(0, -1)) {
    const c = child(parent, seg);
    if (!c.ok) return false;
    parent = c.value;
  }
  if (typeof parent !== 'object' || parent === null) return false;
  const container = parent as Container;
  const last = step.path[step.path.length - 1] as PathSegment;
  if (step.op === 'add') {
    if (Array.isArray(container)) {
      if (typeof last !== 'number') return false;
      container.splice(Math.min(last, container.length), 0, step.value);
      return true;
    }
    if (typeof last !== 'string' || Object.hasOwn(container, last)) return false;
    container[last] = step.value;
    return true;
  }
  const cur = child(container, last);
  if (!cur.ok || !jsonEqual(cur.value, step.expect)) return false;
  if (step.op === 'replace') {
    (container as Record<PathSegment, unknown>)[last] = step.value;
  } else if (Array.isArray(container)) {
    container.splice(last as number, 1);
  } else {
    delete container[last as string];
  }
  return true;
}

/**
 * Decides whether a client may apply one undo step (server side, before
 * the step's check). Returning false refuses the whole `$undo` mutation
 * with `mutation_failed`; nothing of it is applied.
 */
export type UndoStepFilter = (step: UndoStep, tx: Transaction<unknown>) => boolean;

/**
 * The built-in `$undo` mutator: applies checked undo steps in order and
 * skips those whose check fails (see `UndoStep`). With `allow`, a step it
 * refuses fails the mutation. Registered by the server for namespaces with
 * `undo`; the client uses it (without `allow`) for its speculative run.
 */
export function createUndoMutator(allow?: UndoStepFilter) {
  return {
    args: UndoArgsSchema,
    run(tx: Transaction<unknown>, args: UndoArgs): void {
      if (allow) {
        for (const [i, step] of args.steps.entries()) {
          if (!allow(step, tx)) throw new Error(`Undo step ${i} (${step.op} ${step.path.join('.')}) is not allowed.`);
        }
      }
      for (const step of args.steps) applyUndoStep(tx.draft, step);
    },
  } as const;
}

/** `$undo` without a filter (what the client runs speculatively). */
export const undoMutator = createUndoMutator();
