import type { DocReplica } from '@syncline/client';
import type { DocMutateResult, MutatorDefs } from '@syncline/protocol';
import { useCallback, useMemo, useSyncExternalStore } from 'react';

/** What `useUndo` returns. */
export interface UseUndoResult {
  /** Reverts this client's newest group of own mutations; see `DocReplica.undo`. */
  readonly undo: () => Promise<DocMutateResult | undefined>;
  /** Re-applies the group the last undo reverted; see `DocReplica.redo`. */
  readonly redo: () => Promise<DocMutateResult | undefined>;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
}

const FLAGS = ['none', 'undo', 'redo', 'both'] as const;

/**
 * Undo and redo of a replica opened with the `undo` option (and a namespace
 * with `undo: true` on the server). Re-renders when `canUndo` or `canRedo`
 * changes; `undo` and `redo` are stable for a given replica.
 */
export function useUndo<S, M extends MutatorDefs>(doc: DocReplica<S, M>): UseUndoResult {
  const subscribe = useCallback((listener: () => void) => doc.on('history', () => listener()), [doc]);
  const read = (): (typeof FLAGS)[number] => FLAGS[(doc.canUndo ? 1 : 0) + (doc.canRedo ? 2 : 0)] ?? 'none';
  const flags = useSyncExternalStore(subscribe, read, read);
  const undo = useCallback(() => doc.undo(), [doc]);
  const redo = useCallback(() => doc.redo(), [doc]);
  return useMemo(
    () => ({
      undo,
      redo,
      canUndo: flags === 'undo' || flags === 'both',
      canRedo: flags === 'redo' || flags === 'both',
    }),
    [undo, redo, flags],
  );
}
