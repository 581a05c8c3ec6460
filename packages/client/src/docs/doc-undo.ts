import type { DocOp, MutationResult, UndoStep } from '@syncline/protocol';
import type { Entry } from './pending-entry.js';
import type { ModelObserver, ReplicaModel } from './replica-model.js';
import { effectEdits, invertEdits } from './undo-effect.js';
import { DEFAULT_UNDO_DEPTH, UndoHistory, type UndoOrigin } from './undo-history.js';

/** Undo options of `client.doc(name, { undo })`. */
export interface DocUndoOptions {
  /** Undo (and redo) groups kept, oldest dropped first (default 100). */
  readonly depth?: number;
}

/**
 * The undo history of one replica, fed by its model: each own mutation is
 * recorded with the inverse of its speculative run when it is queued, and
 * with the inverse of the server's patches once they are confirmed; every
 * other confirmed op moves the recorded paths along. `onChange` runs when
 * `canUndo` or `canRedo` changes.
 */
export class DocUndo implements ModelObserver {
  readonly #history: UndoHistory;
  readonly #model: ReplicaModel;
  readonly #onChange: () => void;
  #shown = { canUndo: false, canRedo: false };

  constructor(model: ReplicaModel, options: DocUndoOptions, onChange: () => void) {
    this.#history = new UndoHistory(options.depth ?? DEFAULT_UNDO_DEPTH);
    this.#model = model;
    this.#onChange = onChange;
    model.observe(this);
  }

  get canUndo(): boolean {
    return this.#history.canUndo;
  }

  get canRedo(): boolean {
    return this.#history.canRedo;
  }

  /** See `ModelObserver.op`. */
  op(op: DocOp, before: unknown, after: unknown, own: Entry | undefined): void {
    const edits = effectEdits(before, after, op.patches);
    this.#history.applied(edits, own, own ? invertEdits(edits) : undefined);
  }

  /** See `ModelObserver.reset`. */
  reset(): void {
    this.#history.reset();
    this.#notify();
  }

  /** Records a queued own mutation: `ran` is its speculative run on `before`. */
  record(entry: Entry, before: unknown, ran: MutationResult<unknown>, origin: UndoOrigin): void {
    this.#history.record(entry, invertEdits(effectEdits(before, ran.state, ran.patches)), origin);
    this.#notify();
  }

  /** The steps that undo (or redo) the newest group, taken off its stack. */
  take(stack: 'undo' | 'redo'): UndoStep[] | undefined {
    const pending = this.#model.pending;
    const steps = this.#history.take(stack, (key) => pending.includes(key as Entry));
    this.#notify();
    return steps;
  }

  /** See `UndoHistory.beginBatch`. */
  beginBatch(): void {
    this.#history.beginBatch();
  }

  /** See `UndoHistory.endBatch`. */
  endBatch(): void {
    this.#history.endBatch();
  }

  #notify(): void {
    const { canUndo, canRedo } = this.#history;
    if (canUndo === this.#shown.canUndo && canRedo === this.#shown.canRedo) return;
    this.#shown = { canUndo, canRedo };
    this.#onChange();
  }
}
