import type { Entry } from './pending-entry.js';

/** A mutation awaiting the server, as `DocReplica.pending` lists it. */
export interface PendingMutation {
  /** Mutator name. */
  readonly name: string;
  /** Args as given to `mutate.<name>(args)`. */
  readonly args: unknown;
  /** This replica's id for it (1, 2, 3 …); stable while it is pending, unless the server lost track of the client. */
  readonly mutationId: number;
}

/** An empty, shared `pending` list. */
export const NO_PENDING: readonly PendingMutation[] = Object.freeze([]);

/** The `pending` list for `entries`: `previous` itself when nothing changed. */
export function pendingSnapshot(
  previous: readonly PendingMutation[],
  entries: readonly Entry[],
): readonly PendingMutation[] {
  const same =
    previous.length === entries.length &&
    entries.every((e, i) => {
      const p = previous[i] as PendingMutation;
      return p.mutationId === e.id && p.name === e.name && p.args === e.args;
    });
  if (same) return previous;
  if (entries.length === 0) return NO_PENDING;
  return Object.freeze(entries.map((e) => Object.freeze({ name: e.name, args: e.args, mutationId: e.id })));
}
