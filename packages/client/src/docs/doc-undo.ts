import { type DocOp, type MutationResult, UNDO_MUTATOR, type UndoArgs, type UndoStep } from '@syncline/protocol';
import type { Entry } from './pending-entry.js';
import type { ModelObserver, ReplicaModel } from './replica-model.js';
import { effectEdits, invertEdits, transformSteps } from './undo-effect.js';
import { DEFAULT_UNDO_DEPTH, type UndoGroup, UndoHistory, type UndoOrigin } from './undo-history.js';

/** Undo options of `client.doc(name, { undo })`. */
export interface DocUndoOptions {
  /** Undo (and redo) groups kept, oldest dropped first (default 100). */
  readonly depth?: number;
}

/**
 * The undo history of one replica, fed by its model: each own mutation is
 * recorded with the inverse of its speculative run when it is queued, and
 * with the inverse of the server's patches once they are confirmed; every
 * other confirmed op moves the recorded paths along, and those of `$undo`
 * mutations not sent yet. A `$undo` queued before the mutations it reverts
 * were confirmed is held back until they are, and then takes their
 * confirmed inverse (speculative values, such as `tx.timestamp`, may differ
 * from the server's).
 * `onChange` runs when `canUndo` or `canRedo` changes.
 */
export class DocUndo implements ModelObserver {
  readonly #history: UndoHistory;
  readonly #model: ReplicaModel;
  readonly #onChange: () => void;
  readonly #onRevised: () => void;
  /** Unsent `$undo` entries built from groups with unconfirmed mutations. */
  readonly #revisable = new Map<Entry, UndoGroup>();
  #shown = { canUndo: false, canRedo: false };

  /** `onChange`: `canUndo` or `canRedo` changed; `onRevised`: pending args changed (rebase and persist). */
  constructor(model: ReplicaModel, options: DocUndoOptions, onChange: () => void, onRevised: () => void) {
    this.#history = new UndoHistory(options.depth ?? DEFAULT_UNDO_DEPTH);
    this.#model = model;
    this.#onChange = onChange;
    this.#onRevised = onRevised;
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
    const others = op.clientId !== this.#model.clientId;
    this.#history.applied(edits, others, own, own ? invertEdits(edits) : undefined);
    if (others && edits.length > 0) {
      // An undo made offline (or queued behind others) goes out relative to the state the server has.
      this.#model.reviseUnsent(
        (e) => e.name === UNDO_MUTATOR,
        (args) => ({ steps: transformSteps((args as UndoArgs).steps, edits) }),
      );
    }
  }

  /** See `ModelObserver.reset`. */
  reset(): void {
    this.#history.reset();
    this.#revisable.clear();
    this.#notify();
  }

  /** Records a queued own mutation: `ran` is its speculative run on `before`. */
  record(entry: Entry, before: unknown, ran: MutationResult<unknown>, origin: UndoOrigin): void {
    this.#history.record(entry, invertEdits(effectEdits(before, ran.state, ran.patches)), origin);
    this.#notify();
  }

  /** Takes the newest undo (or redo) group off its stack; `track` the `$undo` entry sent for it. */
  take(stack: 'undo' | 'redo'): { readonly steps: UndoStep[]; readonly group: UndoGroup } | undefined {
    const group = this.#history.take(stack, this.#isPending);
    this.#notify();
    return group && { steps: this.#history.stepsOf(group, this.#isPending), group };
  }

  /**
   * `entry` is the `$undo` queued for a taken `group`. While some mutation
   * of the group awaits the server, `entry` waits too (see `ready`).
   */
  track(entry: Entry, group: UndoGroup): void {
    if (this.#history.settled(group, this.#isPending)) this.#history.release(group);
    else this.#revisable.set(entry, group);
  }

  /**
   * True when `entry` may be sent. A tracked `$undo` waits until its group
   * is settled, then takes the group's final steps (`onRevised` persists
   * them; sending resumes once they are stored).
   */
  ready(entry: Entry): boolean {
    const group = this.#revisable.get(entry);
    if (!group) return true;
    if (!this.#history.settled(group, this.#isPending)) return false;
    this.#revisable.delete(entry);
    const steps = this.#history.stepsOf(group, this.#isPending);
    this.#history.release(group);
    this.#model.reviseUnsent(
      (e) => e === entry,
      () => ({ steps }),
    );
    this.#onRevised();
    return !this.#model.isUnsent(entry);
  }

  /** See `UndoHistory.beginBatch`. */
  beginBatch(): void {
    this.#history.beginBatch();
  }

  /** See `UndoHistory.endBatch`. */
  endBatch(): void {
    this.#history.endBatch();
  }

  readonly #isPending = (key: object): boolean => this.#model.pending.includes(key as Entry);

  #notify(): void {
    const { canUndo, canRedo } = this.#history;
    if (canUndo === this.#shown.canUndo && canRedo === this.#shown.canRedo) return;
    this.#shown = { canUndo, canRedo };
    this.#onChange();
  }
}
