import { type CommandInput, type PublishResult, SynclineError, toSynclineError } from '@syncline/protocol';
import type { RequestOptions } from './request-manager.js';

/** Wait before sending again a publish refused with `rate_limited` that carries no `retryAfterMs`. */
export const RATE_LIMIT_RETRY_MS = 1_000;

/** What the publish queue needs from the client. */
export interface PublishHost {
  /** Sends a publish command and resolves with its reply (the client's `request`). */
  request(command: CommandInput<'publish'>, options: RequestOptions): Promise<PublishResult>;
  /** Time a publish may take in all, from the call to its outcome (0: no limit). */
  readonly timeoutMs: number;
}

/** One publish waiting for its outcome. */
interface QueuedPublish {
  readonly command: CommandInput<'publish'>;
  /** Time allowed from the call to the outcome, ms (0: no limit). */
  readonly timeoutMs: number;
  /** Time by which it must have an outcome (ms since the epoch); undefined without a limit. */
  readonly deadline: number | undefined;
  readonly resolve: (result: PublishResult) => void;
  readonly reject: (err: SynclineError) => void;
  /** True while its command waits for a reply (the request has its own timeout then). */
  inFlight: boolean;
  settled: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The client's publishes, one ordered lane per channel.
 *
 * Contract:
 * - **Order.** The publications of one client to one channel keep their call
 *   order: a lane sends one publish at a time and the next only once the
 *   previous one has its outcome. Lanes of different channels do not wait for
 *   each other.
 * - **Rate limits.** A publish refused with `rate_limited` is sent again,
 *   with the same idempotency key, after the error's `retryAfterMs`; the
 *   publishes behind it in its lane wait meanwhile.
 * - **Time bound.** Each publish has an outcome within the host's `timeoutMs`
 *   of the call, waiting in the lane and retries included: past it, one in
 *   flight rejects with `request_timeout` (outcome unknown, safe to retry with
 *   the same key) and one still waiting its turn with `request_timeout` too
 *   (never sent). A retry that could not be sent before the deadline is not
 *   attempted: the publish rejects at once with the `rate_limited` error
 *   (nothing was published).
 * - Any other error rejects the publish at once, and the lane goes on with
 *   the next one.
 */
export class PublishQueue {
  readonly #host: PublishHost;
  readonly #lanes = new Map<string, QueuedPublish[]>();

  constructor(host: PublishHost) {
    this.#host = host;
  }

  /** Queues a publish in its channel's lane; resolves with its offset. */
  publish(command: CommandInput<'publish'>): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      const timeoutMs = this.#host.timeoutMs;
      const item: QueuedPublish = {
        command,
        timeoutMs,
        deadline: timeoutMs > 0 ? Date.now() + timeoutMs : undefined,
        resolve,
        reject,
        inFlight: false,
        settled: false,
        timer: undefined,
      };
      if (timeoutMs > 0) {
        item.timer = setTimeout(() => {
          // In flight, the request's own timeout (set to what was left) answers.
          if (!item.inFlight) this.#timedOut(item);
        }, timeoutMs);
      }
      const lane = this.#lanes.get(command.channel);
      if (lane) {
        lane.push(item);
        return;
      }
      this.#lanes.set(command.channel, [item]);
      void this.#drain(command.channel);
    });
  }

  /** Sends the lane's publishes one after the other until it is empty. */
  async #drain(channel: string): Promise<void> {
    const lane = this.#lanes.get(channel);
    if (!lane) return;
    for (let item = lane[0]; item; item = lane[0]) {
      await this.#deliver(item);
      lane.shift();
    }
    this.#lanes.delete(channel);
  }

  /** Sends one publish until it has an outcome, waiting out `rate_limited` refusals. */
  async #deliver(item: QueuedPublish): Promise<void> {
    while (!item.settled) {
      const left = item.deadline === undefined ? 0 : item.deadline - Date.now();
      if (item.deadline !== undefined && left <= 0) {
        this.#timedOut(item);
        return;
      }
      let err: SynclineError;
      item.inFlight = true;
      try {
        const result = await this.#host.request(item.command, { resend: true, timeoutMs: left });
        this.#settle(item, () => item.resolve(result));
        return;
      } catch (e) {
        err = toSynclineError(e);
      } finally {
        item.inFlight = false;
      }
      const waitMs = err.code === 'rate_limited' ? (err.retryAfterMs ?? RATE_LIMIT_RETRY_MS) : undefined;
      if (waitMs === undefined || (item.deadline !== undefined && Date.now() + waitMs >= item.deadline)) {
        this.#settle(item, () => item.reject(err));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  /** The publish ran out of time before it could be sent (again). */
  #timedOut(item: QueuedPublish): void {
    const { channel } = item.command;
    const err = new SynclineError(
      'request_timeout',
      `Publish to "${channel}" not sent within ${item.timeoutMs} ms (earlier publishes or retries were still waiting).`,
    );
    this.#settle(item, () => item.reject(err));
  }

  #settle(item: QueuedPublish, outcome: () => void): void {
    if (item.settled) return;
    item.settled = true;
    if (item.timer) clearTimeout(item.timer);
    outcome();
  }
}
