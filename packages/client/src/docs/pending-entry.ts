import {
  type DocMutateResult,
  type MutationMeta,
  type MutatorDefs,
  resolveMutator,
  runMutator,
  SynclineError,
  validateWith,
} from '@syncline/protocol';
import type { PersistedMutation } from './replica-store.js';

/** A pending mutation inside a replica. */
export interface Entry extends Omit<PersistedMutation, 'id' | 'args'> {
  id: number;
  /** Args as the caller gave them (an unsent `$undo` may be revised: see `ReplicaModel.reviseUnsent`). */
  args: unknown;
  /** Args after the mutator's schema (what the mutator runs with). */
  runArgs: unknown;
  persisted: boolean;
  /** Send attempt in flight (0: none). */
  sendSeq: number;
  /** Version at which the server acknowledged it. */
  ackedVersion: number | undefined;
  /**
   * An attempt went out under the current client id and its verdict was
   * never learned (connection lost, attempt superseded, or restored from a
   * store): the server may have applied it.
   */
  maybeApplied: boolean;
  waiters: Array<{ resolve: (r: DocMutateResult) => void; reject: (e: SynclineError) => void }>;
}

/**
 * A pending entry for a persisted (or new) mutation; args are re-validated to
 * get what the mutator runs with. A persisted one counts as maybe applied.
 */
export function makeEntry(mutators: MutatorDefs, p: PersistedMutation, persisted: boolean): Entry {
  const m = resolveMutator(mutators, p.name);
  let runArgs = p.args;
  if (m?.args) {
    const check = validateWith(m.args, p.args);
    if (!(check instanceof Promise) && check.ok) runArgs = check.value;
  }
  // A restored entry may have been sent before the reload.
  return { ...p, runArgs, persisted, sendSeq: 0, ackedVersion: undefined, maybeApplied: persisted, waiters: [] };
}

/**
 * Replays pending mutations on a state (rebase). A mutation that fails on
 * the new state shows no effect; the server has the last word on it.
 */
export function replay(
  mutators: MutatorDefs,
  state: unknown,
  pending: readonly Entry[],
  meta: (e: Entry) => MutationMeta,
): unknown {
  let s = state;
  for (const e of pending) {
    const m = resolveMutator(mutators, e.name);
    if (!m) continue;
    try {
      s = runMutator(s, m.run, e.runArgs, meta(e)).state;
    } catch {
      // No effect on the visible state.
    }
  }
  return s;
}

/** The `invalid_args` error of the client-side check. */
export function invalidArgs(name: string, issues: ReadonlyArray<{ path: string; message: string }>): SynclineError {
  return new SynclineError('invalid_args', `Invalid args for "${name}": ${issues[0]?.message}`, {
    details: { issues },
  });
}
