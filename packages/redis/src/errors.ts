import { SynclineError } from '@syncline/protocol';

/** `retryAfterMs` of broker failures. */
export const BROKER_RETRY_AFTER_MS = 500;

/** What clients are told when the message broker cannot be reached. */
export const BROKER_UNAVAILABLE_MESSAGE = 'The message broker is unavailable; retry shortly.';

/** `unavailable` in Syncline's words: the broker was not reached and nothing happened. */
export function brokerUnavailable(cause?: unknown): SynclineError {
  return new SynclineError(
    'unavailable',
    BROKER_UNAVAILABLE_MESSAGE,
    cause === undefined ? { retryAfterMs: BROKER_RETRY_AFTER_MS } : { cause, retryAfterMs: BROKER_RETRY_AFTER_MS },
  );
}

/**
 * Turns an ioredis failure into a retryable `SynclineError`: `unavailable`
 * when the command was never sent (Redis unreachable: nothing happened), and
 * `timeout` when it was sent but no answer came (its outcome is unknown).
 * The message is Syncline's own; ioredis's error is kept as `cause` (the
 * server logs it).
 */
export function toBrokerError(err: unknown, op: string): SynclineError {
  if (err instanceof SynclineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/timed out|Connection is closed|MaxRetriesPerRequest/i.test(message)) {
    return new SynclineError(
      'timeout',
      `The message broker did not answer the ${op} in time; its outcome is unknown (resend with the same key).`,
      { cause: err, retryAfterMs: BROKER_RETRY_AFTER_MS },
    );
  }
  return brokerUnavailable(err);
}
