import { SynclineError } from '@syncline/protocol';
import type { ResolvedDocNamespace } from './doc-namespaces.js';

/**
 * Throws `client_outdated` (`details.reason: "mutators"`) when a mutation
 * comes from a mutator set older than the namespace's `minMutatorVersion`.
 * A client that declares no version counts as version 0.
 */
export function assertMutatorVersion(ns: ResolvedDocNamespace, mutatorVersion: number | undefined): void {
  const min = ns.versions.minMutatorVersion;
  const have = mutatorVersion ?? 0;
  if (have >= min) return;
  throw new SynclineError(
    'client_outdated',
    `The client's mutators for "${ns.name}" are version ${have}; this server needs at least ${min}. Reload to update.`,
    { details: { reason: 'mutators', mutatorVersion: have, minMutatorVersion: min } },
  );
}
