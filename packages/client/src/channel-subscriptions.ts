import {
  type CommandInput,
  errorGroup,
  type PubMessage,
  type RequestType,
  type ResultOf,
  type SynclineError,
  type UnsubscribedMessage,
} from '@syncline/protocol';
import type { RequestOptions } from './request-manager.js';
import { type SubscribeOptions, Subscription } from './subscription.js';

/** Wait before resending a subscribe refused for a temporary reason without a `retryAfterMs` hint. */
const SUBSCRIBE_RETRY_MS = 1_000;

/** What channel subscriptions need from the client. */
export interface ChannelHost {
  /** True while the connection is accepted. */
  readonly connected: boolean;
  /** Changes whenever a connection ends or starts; a retry planned on one connection is dropped on the next. */
  readonly generation: number;
  /** Set while the connection is refused for its token: a new subscription fails at once with it. */
  readonly refusal?: SynclineError | undefined;
  /** Sends a command and resolves with its reply. */
  request<K extends RequestType>(command: CommandInput<K>, options?: RequestOptions): Promise<ResultOf<K>>;
}

/**
 * The channel subscriptions of a client, one live `Subscription` per
 * channel: (re)subscribes them on every connect from their recovery
 * position, routes publications to them, resubscribes after a gap or a
 * temporary server-side end, and retries temporary refusals.
 */
export class ChannelSubscriptions {
  readonly #host: ChannelHost;
  readonly #subs = new Map<string, Subscription>();

  constructor(host: ChannelHost) {
    this.#host = host;
  }

  /** The live subscription of a channel, if any. */
  get(channel: string): Subscription | undefined {
    return this.#subs.get(channel);
  }

  /** The channel's live subscription, or a new one (subscribed at once when connected). */
  subscribe(channel: string, options: SubscribeOptions): Subscription {
    const existing = this.#subs.get(channel);
    if (existing && existing.state !== 'unsubscribed') return existing;
    const sub = new Subscription(
      channel,
      {
        sendSubscribe: (s) => this.#sendSubscribe(s),
        sendUnsubscribe: (s) => {
          this.#subs.delete(s.channel);
          if (this.#host.connected) {
            this.#host.request({ type: 'unsubscribe', channel: s.channel }).catch(() => undefined);
          }
        },
      },
      options,
    );
    sub.on('state', (e) => {
      if (e.state === 'unsubscribed' && this.#subs.get(channel) === sub) this.#subs.delete(channel);
    });
    const refusal = this.#host.refusal;
    if (refusal) {
      sub.handleError(refusal);
      return sub;
    }
    this.#subs.set(channel, sub);
    if (this.#host.connected) this.#sendSubscribe(sub);
    return sub;
  }

  /** Ends every subscription with `err` (the token was refused and cannot be replaced). */
  failAll(err: SynclineError): void {
    const subs = [...this.#subs.values()];
    this.#subs.clear();
    for (const sub of subs) sub.handleError(err);
  }

  /** Subscribes every channel again (after `connect` was accepted). */
  resubscribeAll(): void {
    for (const sub of this.#subs.values()) this.#sendSubscribe(sub);
  }

  /** The connection dropped: every subscription waits for the next one. */
  connectionLost(): void {
    for (const s of this.#subs.values()) s.connectionLost();
  }

  /** Handles a `pub` message. */
  handlePublication(msg: PubMessage): void {
    const sub = this.#subs.get(msg.channel);
    if (sub && sub.state === 'subscribed') {
      const ok = sub.handlePublication(msg);
      if (!ok) this.#resubscribe(sub);
    } else if (sub && sub.state === 'subscribing') {
      // The subscribe reply may precede it in the same batch; its handler runs a microtask later.
      queueMicrotask(() => {
        if (sub.state !== 'subscribed' || this.#subs.get(sub.channel) !== sub) return;
        if (!sub.handlePublication(msg)) this.#resubscribe(sub);
      });
    }
  }

  /** Handles an `unsubscribed` message (the server ended a subscription). */
  handleUnsubscribed(msg: UnsubscribedMessage): void {
    const sub = this.#subs.get(msg.channel);
    if (sub && errorGroup(msg.code) === 'retry') {
      // A temporary end (e.g. `stream_reset`): resubscribe from the last position.
      sub.connectionLost();
      this.#sendSubscribe(sub);
    } else if (sub) {
      this.#subs.delete(sub.channel);
      sub.handleUnsubscribed(msg.code, msg.message);
    }
  }

  #sendSubscribe(sub: Subscription): void {
    const since = sub.recoveryPosition();
    const cmd: CommandInput<'subscribe'> = { type: 'subscribe', channel: sub.channel };
    if (since) cmd.since = since;
    this.#host.request(cmd, { timeoutMs: 0 }).then(
      (result) => {
        if (this.#subs.get(sub.channel) !== sub) {
          // Unsubscribed while the subscribe was in flight: make sure the server forgets it too.
          if (!this.#subs.has(sub.channel) && this.#host.connected) {
            this.#host.request({ type: 'unsubscribe', channel: sub.channel }).catch(() => undefined);
          }
          return;
        }
        sub.handleSubscribed(result, since !== undefined);
      },
      (err: SynclineError) => {
        if (err.code === 'connection_lost' || err.code === 'client_closed' || sub.state === 'unsubscribed') return;
        if (err.group === 'retry' && this.#subs.get(sub.channel) === sub) {
          // A temporary failure (broker down, rate limit): try again on this
          // connection after the hint; a new connection resubscribes anyway.
          const generation = this.#host.generation;
          setTimeout(() => {
            if (generation !== this.#host.generation || !this.#host.connected) return;
            if (this.#subs.get(sub.channel) === sub && sub.state !== 'unsubscribed') this.#sendSubscribe(sub);
          }, err.retryAfterMs ?? SUBSCRIBE_RETRY_MS);
          return;
        }
        if (this.#subs.get(sub.channel) === sub) this.#subs.delete(sub.channel);
        sub.handleError(err);
      },
    );
  }

  #resubscribe(sub: Subscription): void {
    sub.connectionLost();
    const again = (): void => {
      if (sub.state !== 'unsubscribed') this.#sendSubscribe(sub);
    };
    this.#host.request({ type: 'unsubscribe', channel: sub.channel }).then(again, again);
  }
}
