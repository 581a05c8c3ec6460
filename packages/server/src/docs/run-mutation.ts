import {
  applyPatches,
  type DocPatch,
  type MutationMeta,
  resolveMutator,
  runMutator,
  SynclineError,
  thrownMessage,
  validateWith,
} from '@syncline/protocol';
import type { ResolvedDocNamespace } from './doc-namespaces.js';
import { sizePatches } from './doc-size.js';
import type { MutatorGuard } from './mutator-guard.js';

/** What `runMutation` needs of a mutation. */
export interface MutationCall {
  readonly name: string;
  readonly args: unknown;
  readonly clientId?: string | undefined;
  readonly mutationId?: number | undefined;
  readonly userId?: string | undefined;
  /**
   * Called just before the mutator runs (after the id checks); may throw to
   * refuse the mutation without using up its id (e.g. `rate_limited`).
   */
  readonly beforeMutator?: (() => void) | undefined;
  /** Told how long the mutator ran on the server's thread, ms (to charge it to its user). */
  readonly onMutatorTime?: ((ms: number) => void) | undefined;
}

/** A mutation that ran: the new state, its patches and what they did to the document's size. */
export interface MutationOutcome {
  readonly state: unknown;
  /** JSON round-tripped, so memory, storage and every replica hold the same values. */
  readonly patches: DocPatch[];
  /** Change of the document's JSON size, bytes (exact up to `slackBytes`). */
  readonly deltaBytes: number;
  readonly slackBytes: number;
}

const NOT_JSON = Symbol('not JSON');

/**
 * Runs a mutator on a document's state and checks the namespace's schema:
 * resolves with the new state, its patches and its size change, or with the
 * permanent failure as an error value (`unknown_mutator`, `invalid_args`,
 * `mutation_failed`, `mutation_timeout`, `schema_violation`). The mutator
 * and the serialization of its changes run under `guard`'s time budget.
 * Changes nothing itself.
 */
export async function runMutation(
  ns: ResolvedDocNamespace,
  doc: string,
  current: unknown,
  input: MutationCall,
  ts: number,
  guard: MutatorGuard,
): Promise<MutationOutcome | SynclineError> {
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
  const run = mutator.run;
  const ran = await guard.run(() => {
    const r = runMutator(current, run, args, meta);
    const sized = sizePatches(r.patches, r.inversePatches);
    if (sized.patches.length === 0) return { ...sized, state: current };
    let state: unknown;
    try {
      state = applyPatches(current, sized.patches);
    } catch {
      return NOT_JSON;
    }
    return { ...sized, state };
  });
  input.onMutatorTime?.(ran.elapsedMs);
  if (ran.kind === 'timeout') {
    return new SynclineError(
      'mutation_timeout',
      `Mutator "${input.name}" ran longer than ${ran.limitMs} ms and was stopped; nothing was applied.`,
      { details: { limitMs: ran.limitMs } },
    );
  }
  if (ran.kind === 'threw') {
    return new SynclineError('mutation_failed', `Mutator "${input.name}" failed: ${thrownMessage(ran.error)}`);
  }
  if (ran.value === NOT_JSON) {
    return new SynclineError('mutation_failed', `Mutator "${input.name}" produced a change that is not JSON.`);
  }
  const outcome = ran.value;
  if (outcome.patches.length === 0) return outcome;
  if (ns.schema) {
    const check = await validateWith(ns.schema, outcome.state);
    if (!check.ok) {
      return new SynclineError(
        'schema_violation',
        `Mutation "${input.name}" breaks the document schema: ${check.issues[0]?.path || '(root)'}: ${check.issues[0]?.message}`,
        { details: { issues: check.issues } },
      );
    }
  }
  return outcome;
}
