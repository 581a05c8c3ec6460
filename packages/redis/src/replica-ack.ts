import { SynclineError } from '@syncline/protocol';
import type { Redis } from 'ioredis';
import { BROKER_RETRY_AFTER_MS } from './errors.js';

/** Default longest wait for replicas to confirm a publication (`RedisBrokerOptions.ackTimeoutMs`). */
export const DEFAULT_ACK_TIMEOUT_MS = 1_000;

/** What a publish is answered when its replicas did not confirm it in time (or the WAIT failed). */
export function replicaAckTimeout(wanted: number, timeoutMs: number, cause?: unknown): SynclineError {
  return new SynclineError(
    'timeout',
    `The message broker stored the publication, but fewer than ${wanted} Redis replica(s) confirmed it within ${timeoutMs} ms; its outcome is unknown (resend with the same key).`,
    cause === undefined ? { retryAfterMs: BROKER_RETRY_AFTER_MS } : { cause, retryAfterMs: BROKER_RETRY_AFTER_MS },
  );
}

/**
 * Checks `ackReplicas` / `ackTimeoutMs` against the command timeout; throws a
 * `RangeError` naming the bad option. The timeout must be at least 1 ms
 * (`WAIT` with 0 would block for ever) and below the command timeout (a WAIT
 * cut short by it would leave publications queued behind it).
 */
export function checkReplicaAckOptions(replicas: number, timeoutMs: number, commandTimeoutMs: number): void {
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new RangeError(`ackReplicas must be a whole number ≥ 0, not ${replicas}`);
  }
  if (replicas === 0) return;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs >= commandTimeoutMs) {
    throw new RangeError(
      `ackTimeoutMs must be a whole number of ms from 1 to below the command timeout (${commandTimeoutMs} ms), not ${timeoutMs}`,
    );
  }
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: SynclineError) => void;
}

/**
 * Waits for Redis replicas to confirm the writes of one connection, with
 * `WAIT replicas timeoutMs`. WAIT covers every write the connection made
 * before it, so waiters are grouped: at most one WAIT is in flight, and the
 * callers of `confirm()` that arrive meanwhile share the next one (a WAIT
 * blocks its connection in Redis, so one per publication would serialize the
 * publications behind replication round trips).
 *
 * Contract: `confirm()` called after a write on this connection returned
 * resolves only once at least `replicas` replicas have acknowledged that
 * write (and every earlier one of the connection). Otherwise it rejects with
 * the retryable `timeout` (outcome unknown: the write is on the master and
 * may or may not reach a replica), within about two `timeoutMs` (the WAIT in
 * flight, then its own) plus the command's round trip; a failed WAIT
 * (connection lost) rejects the same way.
 */
export class ReplicaAck {
  readonly #redis: Redis;
  readonly #replicas: number;
  readonly #timeoutMs: number;
  /** Callers waiting for the next WAIT (sent after their write returned). */
  #next: Waiter[] = [];
  #inFlight = false;

  /** Waits on `redis`, the connection that made the writes. */
  constructor(redis: Redis, replicas: number, timeoutMs: number) {
    this.#redis = redis;
    this.#replicas = replicas;
    this.#timeoutMs = timeoutMs;
  }

  /** Resolves once `replicas` replicas have every write this connection made before the call; see the class. */
  confirm(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#next.push({ resolve, reject });
      if (!this.#inFlight) this.#send();
    });
  }

  #send(): void {
    const batch = this.#next;
    this.#next = [];
    this.#inFlight = true;
    const settle = (err: SynclineError | undefined): void => {
      for (const w of batch) {
        if (err) w.reject(err);
        else w.resolve();
      }
      this.#inFlight = false;
      if (this.#next.length > 0) this.#send();
    };
    this.#redis.wait(this.#replicas, this.#timeoutMs).then(
      (confirmed) =>
        settle(confirmed >= this.#replicas ? undefined : replicaAckTimeout(this.#replicas, this.#timeoutMs)),
      (err: unknown) => settle(replicaAckTimeout(this.#replicas, this.#timeoutMs, err)),
    );
  }
}
