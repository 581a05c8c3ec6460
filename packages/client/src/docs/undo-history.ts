import type { UndoStep } from '@syncline/protocol';
import { type Edit, transformSteps } from './undo-effect.js';

/** Default number of undo (and of redo) groups a replica keeps. */
export const DEFAULT_UNDO_DEPTH = 100;

/** Where a mutation's inverse goes: a user edit, or the `$undo` sent by `undo()` or `redo()`. */
export type UndoOrigin = 'edit' | 'undo' | 'redo';

/** The inverse of one own mutation, while it is pending (speculative) or once the server applied it. */
interface Part {
  readonly key: object;
  steps: UndoStep[];
  confirmed: boolean;
}

/** The mutations one `undo()` reverts (opaque outside this module). */
export interface UndoGroup {
  readonly parts: Part[];
}

type Group = UndoGroup;

/**
 * The undo and redo stacks of one replica: pure logic, no I/O.
 *
 * Each own mutation adds a part (its inverse steps) to a group; a group is
 * what one `undo()` reverts. A part first holds the inverse of the
 * speculative run and is replaced by the inverse of the server's patches
 * for that mutation when they arrive; from then on its paths follow every
 * later op (array indices shift, steps into removed values are dropped).
 * A new edit clears the redo stack; each stack keeps at most `depth` groups
 * (the oldest go first).
 */
export class UndoHistory {
  readonly #depth: number;
  #undo: Group[] = [];
  #redo: Group[] = [];
  readonly #parts = new Map<object, Part>();
  /** Groups taken by `take` whose mutations are not all confirmed yet (their steps still change). */
  readonly #taken = new Set<Group>();
  #batch: Group | undefined;
  #batchDepth = 0;

  constructor(depth = DEFAULT_UNDO_DEPTH) {
    if (!Number.isInteger(depth) || depth < 1) throw new TypeError('The undo depth must be a positive integer.');
    this.#depth = depth;
  }

  /** True when `undo()` has a group to revert. */
  get canUndo(): boolean {
    return this.#undo.length > 0;
  }

  /** True when `redo()` has a group to re-apply. */
  get canRedo(): boolean {
    return this.#redo.length > 0;
  }

  /** Groups every edit recorded until the matching `endBatch` into one undo step (nestable). */
  beginBatch(): void {
    this.#batchDepth++;
  }

  /** Closes a batch opened by `beginBatch`. */
  endBatch(): void {
    if (this.#batchDepth === 0) return;
    this.#batchDepth--;
    if (this.#batchDepth === 0) this.#batch = undefined;
  }

  /**
   * Records a new own mutation (identified by `key`) with the inverse of its
   * speculative run. An `edit` joins the open batch or starts a group and
   * clears the redo stack; the `$undo` of `undo()` starts a redo group, that
   * of `redo()` an undo group.
   */
  record(key: object, steps: UndoStep[], origin: UndoOrigin): void {
    const part: Part = { key, steps, confirmed: false };
    this.#parts.set(key, part);
    if (origin === 'edit') {
      this.#clear(this.#redo);
      this.#redo = [];
      if (this.#batchDepth > 0 && this.#batch) {
        this.#batch.parts.push(part);
        return;
      }
      const group: Group = { parts: [part] };
      if (this.#batchDepth > 0) this.#batch = group;
      this.#push(this.#undo, group);
      return;
    }
    this.#push(origin === 'undo' ? this.#redo : this.#undo, { parts: [part] });
  }

  /**
   * An op reached the confirmed state. Earlier confirmed parts follow its
   * `edits`, and so do pending ones when it is `others`' (an own op is
   * already under them); when it is the server's version of own mutation
   * `key`, that mutation's part takes `inverse`, the inverse of what the
   * server did.
   */
  applied(edits: readonly Edit[], others: boolean, key?: object, inverse?: UndoStep[]): void {
    if (edits.length > 0) {
      for (const group of [...this.#undo, ...this.#redo, ...this.#taken]) {
        for (const part of group.parts) {
          if (part.confirmed || others) part.steps = transformSteps(part.steps, edits);
        }
      }
    }
    if (key === undefined) return;
    const part = this.#parts.get(key);
    if (!part) return;
    this.#parts.delete(key);
    part.steps = inverse ?? [];
    part.confirmed = true;
  }

  /**
   * Takes the newest group of the undo (or redo) stack that still has steps
   * (see `stepsOf`). While some of its mutations are not confirmed, the
   * group keeps following ops and confirmations until `release`.
   */
  take(stack: 'undo' | 'redo', isPending: (key: object) => boolean): UndoGroup | undefined {
    const groups = stack === 'undo' ? this.#undo : this.#redo;
    for (let group = groups.pop(); group; group = groups.pop()) {
      if (this.stepsOf(group, isPending).length === 0) {
        this.#clear([group]);
        continue;
      }
      if (this.settled(group)) this.#clear([group]);
      else this.#taken.add(group);
      return group;
    }
    return undefined;
  }

  /**
   * The steps that revert `group`, in the order to apply. A part whose
   * mutation is neither confirmed nor pending (`isPending`) was rejected: it
   * changed nothing and is left out.
   */
  stepsOf(group: UndoGroup, isPending: (key: object) => boolean): UndoStep[] {
    const steps: UndoStep[] = [];
    for (const part of [...group.parts].reverse()) {
      if (part.confirmed || isPending(part.key)) steps.push(...part.steps);
    }
    return steps;
  }

  /**
   * True when every mutation of a group is confirmed or was rejected (not
   * `isPending`): its steps are final, up to later ops.
   */
  settled(group: UndoGroup, isPending: (key: object) => boolean = () => true): boolean {
    return group.parts.every((p) => p.confirmed || !isPending(p.key));
  }

  /** Stops following a taken group. */
  release(group: UndoGroup): void {
    if (this.#taken.delete(group)) this.#clear([group]);
  }

  /** Forgets both stacks (the replica took a snapshot: paths cannot follow it). */
  reset(): void {
    this.#undo = [];
    this.#redo = [];
    this.#parts.clear();
    this.#taken.clear();
    this.#batch = undefined;
  }

  #push(stack: Group[], group: Group): void {
    stack.push(group);
    while (stack.length > this.#depth) this.#clear(stack.splice(0, 1));
  }

  #clear(groups: readonly Group[]): void {
    for (const g of groups) for (const p of g.parts) this.#parts.delete(p.key);
  }
}
