import { create } from 'mutative';
import type { DocPatch, PathSegment } from './patches.js';

/** A path into the document: an array of segments, or a dotted string (`"todos.0.done"`). */
export type DocPath = string | readonly PathSegment[];

/** Facts about one mutation that a mutator may read (never `Date.now()` itself). */
export interface MutationMeta {
  /** The document name (`namespace:id`). */
  readonly doc: string;
  /** Client that issued the mutation; undefined for server-side and HTTP mutations without one. */
  readonly clientId: string | undefined;
  /** The client's mutation id (1, 2, 3 …); undefined when there is no client. */
  readonly mutationId: number | undefined;
  /** User id from the token; undefined for server-side and HTTP mutations. */
  readonly userId: string | undefined;
  /**
   * Server-assigned time of the mutation, ms since the epoch. On the client's
   * speculative run it is the client's clock; the server's value wins once
   * the mutation is confirmed.
   */
  readonly timestamp: number;
  /** Where the mutator runs: speculatively on the client, or authoritatively on the server. */
  readonly location: 'client' | 'server';
}

/**
 * What a mutator receives: the mutation's facts and read/write access to the
 * document's JSON state, either through `draft` (a mutative draft: mutate it
 * in place) or through the path helpers. Both may be mixed.
 */
export interface Transaction<S = unknown> extends MutationMeta {
  /** The document state as a draft; assign, push, splice and delete on it freely. */
  readonly draft: S;
  /** Value at a path (undefined when absent). */
  get(path: DocPath): unknown;
  /** True when the path exists. */
  has(path: DocPath): boolean;
  /** Sets a value, creating missing parent objects. */
  set(path: DocPath, value: unknown): void;
  /** Deletes an object key, or removes one array item. No-op when absent. */
  delete(path: DocPath): void;
  /** Inserts items into the array at `path` before `index` (negative counts from the end). */
  insert(path: DocPath, index: number, ...values: unknown[]): void;
  /** Appends items to the array at `path` (creating it when absent). */
  push(path: DocPath, ...values: unknown[]): void;
  /** Removes `count` items of the array at `path` from `index`. */
  remove(path: DocPath, index: number, count?: number): void;
}

/** Result of running one mutator. */
export interface MutationResult<S> {
  readonly state: S;
  readonly patches: DocPatch[];
  /** Patches that undo `patches` when applied to `state`. */
  readonly inversePatches: DocPatch[];
}

function segments(path: DocPath): PathSegment[] {
  if (typeof path !== 'string') return [...path];
  return path === '' ? [] : path.split('.');
}

type Container = Record<string, unknown> | unknown[];

function isContainer(v: unknown): v is Container {
  return typeof v === 'object' && v !== null;
}

function key(container: Container, seg: PathSegment): string | number {
  if (Array.isArray(container)) {
    const n = typeof seg === 'number' ? seg : Number(seg);
    if (!Number.isInteger(n)) throw new TypeError(`Array index expected, got "${String(seg)}".`);
    return n < 0 ? container.length + n : n;
  }
  return String(seg);
}

function read(root: unknown, segs: readonly PathSegment[]): unknown {
  let cur: unknown = root;
  for (const s of segs) {
    if (!isContainer(cur)) return undefined;
    const k = key(cur, s);
    if (!Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

class DraftTransaction<S> implements Transaction<S> {
  readonly doc: string;
  readonly clientId: string | undefined;
  readonly mutationId: number | undefined;
  readonly userId: string | undefined;
  readonly timestamp: number;
  readonly location: 'client' | 'server';
  readonly draft: S;

  constructor(draft: S, meta: MutationMeta) {
    this.draft = draft;
    this.doc = meta.doc;
    this.clientId = meta.clientId;
    this.mutationId = meta.mutationId;
    this.userId = meta.userId;
    this.timestamp = meta.timestamp;
    this.location = meta.location;
  }

  get(path: DocPath): unknown {
    return read(this.draft, segments(path));
  }

  has(path: DocPath): boolean {
    const segs = segments(path);
    if (segs.length === 0) return true;
    const parent = read(this.draft, segs.slice(0, -1));
    return isContainer(parent) && Object.hasOwn(parent, key(parent, segs[segs.length - 1] as PathSegment));
  }

  set(path: DocPath, value: unknown): void {
    const segs = segments(path);
    const last = segs.pop();
    if (last === undefined) throw new TypeError('Cannot set the document root; set its fields instead.');
    let cur: unknown = this.draft;
    for (const s of segs) {
      if (!isContainer(cur)) throw new TypeError(`Cannot set "${String(s)}" inside a scalar.`);
      const k = key(cur, s);
      let next = (cur as Record<string | number, unknown>)[k];
      if (!isContainer(next)) {
        next = {};
        (cur as Record<string | number, unknown>)[k] = next;
        next = (cur as Record<string | number, unknown>)[k];
      }
      cur = next;
    }
    if (!isContainer(cur)) throw new TypeError(`Cannot set "${String(last)}" inside a scalar.`);
    (cur as Record<string | number, unknown>)[key(cur, last)] = value;
  }

  delete(path: DocPath): void {
    const segs = segments(path);
    const last = segs.pop();
    if (last === undefined) throw new TypeError('Cannot delete the document root.');
    const parent = read(this.draft, segs);
    if (!isContainer(parent)) return;
    const k = key(parent, last);
    if (Array.isArray(parent)) {
      if (typeof k === 'number' && k >= 0 && k < parent.length) parent.splice(k, 1);
    } else if (Object.hasOwn(parent, k)) {
      delete parent[k as string];
    }
  }

  #array(path: DocPath, create: boolean): unknown[] {
    let arr = this.get(path);
    if (arr === undefined && create) {
      this.set(path, []);
      arr = this.get(path);
    }
    if (!Array.isArray(arr)) throw new TypeError(`No array at "${segments(path).join('.')}".`);
    return arr;
  }

  insert(path: DocPath, index: number, ...values: unknown[]): void {
    const arr = this.#array(path, false);
    arr.splice(index < 0 ? arr.length + index : index, 0, ...values);
  }

  push(path: DocPath, ...values: unknown[]): void {
    this.#array(path, true).push(...values);
  }

  remove(path: DocPath, index: number, count = 1): void {
    const arr = this.#array(path, false);
    arr.splice(index < 0 ? arr.length + index : index, count);
  }
}

/**
 * Runs a mutator on a state without modifying it; returns the new state and
 * the patches (and inverse patches) that lead there. Throws what the mutator
 * throws. A mutator must be synchronous and deterministic in state + args + meta.
 */
export function runMutator<S>(
  state: S,
  run: (tx: Transaction<S>, args: unknown) => unknown,
  args: unknown,
  meta: MutationMeta,
): MutationResult<S> {
  const [next, patches, inversePatches] = create(
    state as object,
    (draft) => {
      const out = run(new DraftTransaction(draft as S, meta), args);
      if (out !== null && typeof out === 'object' && typeof (out as { then?: unknown }).then === 'function') {
        throw new TypeError('Mutators must be synchronous; this one returned a promise.');
      }
    },
    { enablePatches: true },
  );
  return {
    state: next as S,
    patches: patches as unknown as DocPatch[],
    inversePatches: inversePatches as unknown as DocPatch[],
  };
}
