import {
  applyPatches,
  type DocPatch,
  type MutationMeta,
  resolveMutator,
  runMutator,
  SynclineError,
  toSynclineError,
  validateWith,
} from '@syncline/protocol';
import type { ResolvedDocNamespace } from './doc-namespaces.js';

/** What `runMutation` needs of a mutation. */
export interface MutationCall {
  readonly name: string;
  readonly args: unknown;
  readonly clientId?: string | undefined;
  readonly mutationId?: number | undefined;
  readonly userId?: string | undefined;
}

/**
 * Runs a mutator on a document's state and checks the namespace's schema:
 * resolves with the new state and its patches (JSON round-tripped, so
 * memory, storage and every replica hold the same values), or with the
 * permanent failure as an error value (`unknown_mutator`, `invalid_args`,
 * `mutation_failed`, `schema_violation`). Changes nothing itself.
 */
export async function runMutation(
  ns: ResolvedDocNamespace,
  doc: string,
  current: unknown,
  input: MutationCall,
  ts: number,
): Promise<{ state: unknown; patches: DocPatch[] } | SynclineError> {
  const mutator = resolveMutator(ns.mutators, input.name);
  if (!mutator) {
    return new SynclineError('unknown_mutator', `No mutator "${input.name.slice(0, 100)}" in "${ns.name}".`);
  }
  let args = input.args;
  if (mutator.args) {
    const check = await validateWith(mutator.args, args);
    if (!check.ok) {
      return new SynclineError('invalid_args', `Invalid args for "${input.name}": ${check.issues[0]?.message}`, {
        details: { issues: check.issues },
      });
    }
    args = check.value;
  }
  const meta: MutationMeta = {
    doc,
    clientId: input.clientId,
    mutationId: input.mutationId,
    userId: input.userId,
    timestamp: ts,
    location: 'server',
  };
  let patches: DocPatch[];
  try {
    const raw = runMutator(current, mutator.run, args, meta).patches;
    patches = JSON.parse(JSON.stringify(raw)) as DocPatch[];
  } catch (err) {
    const e = toSynclineError(err);
    return new SynclineError('mutation_failed', `Mutator "${input.name}" failed: ${e.message}`);
  }
  if (patches.length === 0) return { state: current, patches };
  let state: unknown;
  try {
    state = applyPatches(current, patches);
  } catch (err) {
    return new SynclineError('mutation_failed', `Mutator "${input.name}" produced a change that is not JSON.`, {
      cause: err,
    });
  }
  if (ns.schema) {
    const check = await validateWith(ns.schema, state);
    if (!check.ok) {
      return new SynclineError(
        'schema_violation',
        `Mutation "${input.name}" breaks the document schema: ${check.issues[0]?.path || '(root)'}: ${check.issues[0]?.message}`,
        { details: { issues: check.issues } },
      );
    }
  }
  return { state, patches };
}
