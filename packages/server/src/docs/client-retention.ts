import { SynclineError } from '@syncline/protocol';
import type { DocStore } from './doc-store.js';

/** Default `clientRetentionMs` of a document namespace: 30 days. */
export const DEFAULT_CLIENT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Slack for the client's clock when judging a first mutation by its age: a
 * mutation 1 made less than this (at most half the retention) after the
 * pruning horizon counts as possibly made before it (the client's clock may
 * have been set back). The horizon is at least a retention old, so a
 * mutation made within the last half retention always passes.
 */
export const CLIENT_CLOCK_MARGIN_MS = 24 * 60 * 60 * 1000;

function storageUnavailable(err: unknown): SynclineError {
  return new SynclineError('unavailable', 'Document storage is unavailable; nothing was applied.', {
    cause: err,
    retryAfterMs: 250,
  });
}

function expired(doc: string, clientId: string, horizon: number): SynclineError {
  return new SynclineError(
    'client_expired',
    `Client ${clientId} is no longer known on "${doc}" (not seen for longer than the retention); continue under a new client id.`,
    { details: { prunedUpTo: horizon } },
  );
}

/**
 * Checks a mutation of a client the store has no row for. A new client
 * starts at mutation id 1; an id above 1 means the client wrote before, so
 * when the document has pruned client rows the server cannot tell which of
 * its mutations were applied and answers `client_expired` (instead of
 * `mutation_out_of_order`, whose answer, a new identity with the same
 * mutations, could apply one twice). A mutation 1 is judged by its age
 * (`ageMs`, from the client's clock): made before the horizon (plus a
 * margin), it may be one a pruned row recorded. Without `ageMs` a mutation 1
 * counts as a new client's.
 */
export async function assertNotExpired(
  store: DocStore,
  doc: string,
  input: { readonly clientId: string; readonly mutationId: number; readonly ageMs?: number | undefined },
  retentionMs: number,
  now: number,
): Promise<void> {
  if (!store.clientsPrunedUpTo) return;
  if (input.mutationId === 1 && input.ageMs === undefined) return;
  let horizon: number;
  try {
    horizon = await store.clientsPrunedUpTo(doc);
  } catch (err) {
    throw storageUnavailable(err);
  }
  if (horizon === 0) return;
  const margin = Math.min(CLIENT_CLOCK_MARGIN_MS, Math.floor(retentionMs / 2));
  if (input.mutationId === 1 && now - (input.ageMs ?? 0) > horizon + margin) return;
  throw expired(doc, input.clientId, horizon);
}

/**
 * Deletes the document's client rows not written for `retentionMs` (cheap:
 * runs when a snapshot is stored). Resolves with the number deleted; a
 * failure is reported to `onError` and counts as 0 (the rows wait for the
 * next snapshot).
 */
export async function pruneClients(
  store: DocStore,
  doc: string,
  retentionMs: number,
  now: number,
  onError: (err: unknown) => void,
): Promise<number> {
  if (!store.pruneClients) return 0;
  try {
    return await store.pruneClients(doc, now - retentionMs);
  } catch (err) {
    onError(err);
    return 0;
  }
}
