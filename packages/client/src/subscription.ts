import { type Publication, type SubscribeResult, SynclineError } from '@syncline/protocol';
import { Emitter } from './emitter.js';
import type { SubscriptionState } from './states.js';

/** A publication received on a subscription; `T` is the channel's data type (`unknown` untyped). */
export interface ReceivedPublication<T = unknown> extends Publication {
  readonly channel: string;
  readonly data: T;
}

/** Payload of the `subscribed` event. */
export interface SubscribedEvent {
  readonly epoch: string;
  readonly offset: number;
  /** True: every missed publication was delivered; false: there is a gap the app must refetch. Undefined on a first subscribe. */
  readonly recovered: boolean | undefined;
}

/** Events of a subscription. */
export interface SubscriptionEvents<T = unknown> {
  publication: ReceivedPublication<T>;
  subscribed: SubscribedEvent;
  state: { state: SubscriptionState; reason: string; code?: string };
  error: SynclineError;
  unsubscribed: { code: string; message: string };
}

/** Options of `client.subscribe`. */
export interface SubscribeOptions<T = unknown> {
  /** Called for every publication, in offset order, exactly once. */
  readonly onPublication?: (pub: ReceivedPublication<T>) => void;
  /** Called after every (re)subscribe that asked to recover, with whether it fully did. */
  readonly onRecovered?: (recovered: boolean, event: SubscribedEvent) => void;
  /** Start from a known position (e.g. persisted by the app) and recover from it. */
  readonly since?: { readonly epoch: string; readonly offset: number };
}

/** What a subscription needs from its client. */
export interface SubscriptionHost {
  sendSubscribe(sub: Subscription): void;
  sendUnsubscribe(sub: Subscription): void;
}

/**
 * A channel subscription. It survives reconnects: the client resubscribes
 * with the last `(epoch, offset)` and delivers missed publications exactly
 * once, or reports `recovered: false`.
 */
export class Subscription<T = unknown> {
  readonly channel: string;
  readonly #events = new Emitter<SubscriptionEvents>();
  readonly #host: SubscriptionHost;
  readonly #options: SubscribeOptions;
  #state: SubscriptionState = 'subscribing';
  #epoch: string | undefined;
  #offset = 0;
  #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (e: SynclineError) => void;
  #everSubscribed = false;

  constructor(channel: string, host: SubscriptionHost, options: SubscribeOptions<T> = {}) {
    this.channel = channel;
    this.#host = host;
    // The server checked the data against the namespace's schema: listeners of `T` get a `T`.
    this.#options = options as SubscribeOptions;
    if (options.since) {
      this.#epoch = options.since.epoch;
      this.#offset = options.since.offset;
    }
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => undefined);
    if (this.#options.onPublication) this.#events.on('publication', this.#options.onPublication);
  }

  /** Current state. */
  get state(): SubscriptionState {
    return this.#state;
  }

  /** Alias of `state`, for UI bindings. */
  get current(): SubscriptionState {
    return this.#state;
  }

  /** Last position delivered: `(epoch, offset)`; undefined before the first subscribe. */
  get position(): { epoch: string; offset: number } | undefined {
    return this.#epoch === undefined ? undefined : { epoch: this.#epoch, offset: this.#offset };
  }

  /** Resolves once subscribed the first time; rejects if the server refused. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Adds an event listener. */
  on<K extends keyof SubscriptionEvents<T>>(event: K, listener: (p: SubscriptionEvents<T>[K]) => void): () => void {
    return this.#events.on(event, listener as (p: SubscriptionEvents[K]) => void);
  }

  /** Calls `listener` on every state change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    return this.#events.on('state', () => listener());
  }

  /** Stops the subscription for good. */
  unsubscribe(): void {
    if (this.#state === 'unsubscribed') return;
    this.#setState('unsubscribed', 'unsubscribe_called');
    // Also while subscribing: a subscribe may be in flight (the client sends it only when connected).
    this.#host.sendUnsubscribe(this);
    this.#rejectReady(new SynclineError('not_subscribed', 'Unsubscribed before the subscription was ready.'));
  }

  // ---- called by the client ----

  /** @internal The `since` to send on (re)subscribe. */
  recoveryPosition(): { epoch: string; offset: number } | undefined {
    return this.position;
  }

  /** @internal Connection lost: go back to subscribing. */
  connectionLost(): void {
    if (this.#state === 'subscribed') this.#setState('subscribing', 'connection_lost');
  }

  /** @internal Subscribe reply. */
  handleSubscribed(result: SubscribeResult, askedToRecover: boolean): void {
    if (this.#state === 'unsubscribed') return;
    let recovered = askedToRecover ? result.recovered === true : undefined;
    // A channel whose top is below this subscription's own position in the
    // same epoch went back in time (its broker lost writes): what was delivered
    // past that top cannot be replayed, so it is not a recovery.
    if (recovered === true && result.epoch === this.#epoch && result.offset < this.#offset) recovered = false;
    if (recovered === true) {
      for (const p of result.publications ?? []) this.handlePublication({ ...p, channel: this.channel });
    }
    this.#epoch = result.epoch;
    if (recovered !== true || result.offset > this.#offset) this.#offset = result.offset;
    this.#everSubscribed = true;
    this.#setState('subscribed', 'subscribed');
    const ev: SubscribedEvent = { epoch: result.epoch, offset: this.#offset, recovered };
    this.#events.emit('subscribed', ev);
    if (recovered !== undefined) this.#options.onRecovered?.(recovered, ev);
    this.#resolveReady();
  }

  /**
   * @internal A live or recovered publication. Returns false when an offset
   * gap shows publications were missed (the client then resubscribes).
   */
  handlePublication(pub: ReceivedPublication): boolean {
    if (this.#state === 'unsubscribed') return true;
    if (pub.offset <= this.#offset) return true;
    if (this.#offset > 0 && pub.offset > this.#offset + 1) return false;
    this.#offset = pub.offset;
    this.#events.emit('publication', pub);
    return true;
  }

  /** @internal The server refused the subscribe. */
  handleError(err: SynclineError): void {
    this.#setState('unsubscribed', 'error', err.code);
    this.#events.emit('error', err);
    this.#rejectReady(err);
  }

  /** @internal The server ended the subscription. */
  handleUnsubscribed(code: string, message: string): void {
    this.#setState('unsubscribed', 'server_unsubscribe', code);
    this.#events.emit('unsubscribed', { code, message });
  }

  /** @internal Was it subscribed at least once. */
  get everSubscribed(): boolean {
    return this.#everSubscribed;
  }

  #setState(state: SubscriptionState, reason: string, code?: string): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#events.emit('state', code === undefined ? { state, reason } : { state, reason, code });
  }
}
