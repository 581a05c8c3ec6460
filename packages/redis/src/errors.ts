import { SynclineError } from '@syncline/protocol';

/**
 * Turns an ioredis failure into a retryable `SynclineError`: `unavailable`
 * when the command was never sent (Redis unreachable: nothing happened), and
 * `timeout` when it was sent but no answer came (its outcome is unknown).
 */
export function toBrokerError(err: unknown, op: string): SynclineError {
  if (err instanceof SynclineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/timed out|Connection is closed|MaxRetriesPerRequest/i.test(message)) {
    return new SynclineError('timeout', `Redis did not answer the ${op} in time; its outcome is unknown.`, {
      cause: err,
      retryAfterMs: 500,
    });
  }
  return new SynclineError('unavailable', `Redis is unavailable (${op}): ${message}`, {
    cause: err,
    retryAfterMs: 500,
  });
}
