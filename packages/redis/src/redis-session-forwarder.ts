import { randomBytes } from 'node:crypto';
import type { ForwardedRequest, ForwardedResponse, ForwardHandler, SessionForwarder } from '@syncline/server';
import type { PubSubBus } from './pubsub-bus.js';

/** Options of the Redis session forwarder. */
export interface RedisSessionForwarderOptions {
  /** Key prefix (default `syncline:`). */
  readonly prefix?: string;
  /** How long a forwarded `send` or `close` may take (default 5 s). */
  readonly timeoutMs?: number;
  /** How long a forwarded `poll` may take: the owner's poll timeout plus transit (default 30 s). */
  readonly pollTimeoutMs?: number;
  /** Receives failures of serving forwarded requests. */
  readonly onError?: (err: unknown) => void;
}

interface Pending {
  readonly resolve: (r: ForwardedResponse) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Forwards HTTP-session requests (SSE POSTs, long-polls) to the node that owns
 * the session over Redis pub/sub: a request goes to the owner's channel with
 * a reply channel of the sender, and the owner publishes its answer there.
 * Requests one node sends are delivered in order (one publishing connection).
 * When no node listens for the owner (it is gone), the answer is 404
 * `session_not_found` at once; when the owner does not answer in time the
 * forward rejects and the caller answers `unavailable`.
 */
export class RedisSessionForwarder implements SessionForwarder {
  readonly #bus: PubSubBus;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #pollTimeoutMs: number;
  readonly #onError: (err: unknown) => void;
  readonly #replyChannel: string;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #listening: Promise<void> | undefined;

  constructor(bus: PubSubBus, options: RedisSessionForwarderOptions = {}) {
    this.#bus = bus;
    this.#prefix = `${options.prefix ?? 'syncline:'}fwd:`;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#pollTimeoutMs = options.pollTimeoutMs ?? 30_000;
    this.#onError = options.onError ?? (() => undefined);
    this.#replyChannel = `${this.#prefix}reply:${randomBytes(8).toString('hex')}`;
  }

  serve(nodeId: string, handler: ForwardHandler): () => void {
    const channel = `${this.#prefix}node:${nodeId}`;
    this.#bus
      .subscribe(channel, (payload) => {
        const { id, reply, request } = JSON.parse(payload) as { id: number; reply: string; request: ForwardedRequest };
        handler(request).then(
          (response) => this.#answer(reply, id, response),
          (err: unknown) => {
            this.#onError(err);
            this.#answer(reply, id, {
              status: 500,
              body: JSON.stringify({ error: { code: 'internal', message: 'The owner node failed the request.' } }),
            });
          },
        );
      })
      .catch(this.#onError);
    return () => {
      this.#bus.unsubscribe(channel).catch(this.#onError);
    };
  }

  #answer(reply: string, id: number, response: ForwardedResponse): void {
    this.#bus.publish(reply, JSON.stringify({ id, response })).catch(this.#onError);
  }

  #listen(): Promise<void> {
    this.#listening ??= this.#bus.subscribe(this.#replyChannel, (payload) => {
      const { id, response } = JSON.parse(payload) as { id: number; response: ForwardedResponse };
      const p = this.#pending.get(id);
      if (!p) return;
      this.#pending.delete(id);
      clearTimeout(p.timer);
      p.resolve(response);
    });
    this.#listening.catch(() => {
      this.#listening = undefined;
    });
    return this.#listening;
  }

  async forward(nodeId: string, request: ForwardedRequest): Promise<ForwardedResponse> {
    await this.#listen();
    const id = this.#nextId++;
    const wait = request.kind === 'poll' ? this.#pollTimeoutMs : this.#timeoutMs;
    const answer = new Promise<ForwardedResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`Node ${nodeId} did not answer a forwarded ${request.kind} in ${wait} ms.`));
      }, wait);
      this.#pending.set(id, { resolve, reject, timer });
    });
    let receivers: number;
    try {
      receivers = await this.#bus.publish(
        `${this.#prefix}node:${nodeId}`,
        JSON.stringify({ id, reply: this.#replyChannel, request }),
      );
    } catch (err) {
      this.#drop(id);
      throw err;
    }
    if (receivers === 0) {
      this.#drop(id);
      const message = `No live HTTP session "${request.session.slice(0, 80)}".`;
      return { status: 404, body: JSON.stringify({ error: { code: 'session_not_found', message } }) };
    }
    return answer;
  }

  #drop(id: number): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.resolve({ status: 0, body: '' });
  }
}
