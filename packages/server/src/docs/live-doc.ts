import { SynclineError } from '@syncline/protocol';
import type { ResolvedDocNamespace } from './doc-namespaces.js';
import { jsonBytes } from './doc-size.js';
import type { MutationOutcome } from './run-mutation.js';

/** A document in the engine's memory. */
export interface LiveDoc {
  readonly name: string;
  readonly ns: ResolvedDocNamespace;
  loaded: boolean;
  version: number;
  state: unknown;
  snapshotVersion: number;
  /** JSON size of `state` in bytes, exact up to `slackBytes`. */
  bytes: number;
  slackBytes: number;
  readonly clients: Map<string, number>;
  tail: Promise<unknown>;
  jobs: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

/** A document not loaded yet. */
export function newLiveDoc(name: string, ns: ResolvedDocNamespace): LiveDoc {
  return {
    name,
    ns,
    loaded: false,
    version: 0,
    state: undefined,
    snapshotVersion: 0,
    bytes: 0,
    slackBytes: 0,
    clients: new Map(),
    tail: Promise.resolve(),
    jobs: 0,
    idleTimer: undefined,
  };
}

/** Sets the state and measures it exactly. */
export function setState(live: LiveDoc, state: unknown): void {
  live.state = state;
  live.bytes = jsonBytes(state);
  live.slackBytes = 0;
}

/** Storage failed: nothing was applied (temporary). */
export function unavailable(err: unknown): SynclineError {
  return new SynclineError('unavailable', 'Document storage is unavailable; nothing was applied.', {
    cause: err,
    retryAfterMs: 250,
  });
}

/** The size a document has after a mutation, as `live` keeps it. */
export interface SizeAfter {
  readonly bytes: number;
  readonly slackBytes: number;
}

/**
 * Checks a mutation against the namespace's `maxBytes`: the size after it,
 * or `doc_too_large` when it would grow the document past the limit. The
 * size is tracked from the patches; the new state is serialized only when
 * the estimate is too close to the limit to decide, or when its slack has
 * grown past a 64th of the limit.
 */
export function sizeAfter(live: LiveDoc, outcome: MutationOutcome): SizeAfter | SynclineError {
  const max = live.ns.maxBytes;
  let bytes = live.bytes + outcome.deltaBytes;
  let slackBytes = live.slackBytes + outcome.slackBytes;
  if (bytes + slackBytes <= max && slackBytes <= max / 64) return { bytes, slackBytes };
  if (bytes - slackBytes <= max || slackBytes > max / 64) {
    bytes = jsonBytes(outcome.state);
    slackBytes = 0;
  }
  // A document already above the limit still takes mutations that do not grow it.
  if (bytes <= max || outcome.deltaBytes <= 0) return { bytes, slackBytes };
  return new SynclineError(
    'doc_too_large',
    `The mutation would make document "${live.name}" ${bytes} bytes, above its limit of ${max}; nothing was applied.`,
    { details: { limit: max, bytes } },
  );
}
