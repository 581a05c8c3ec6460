import type { ReceivedPublication, SubscribedEvent, Subscription, SynclineClient } from '@syncline/client';
import { Activation, cachePer, listenWhileActive } from './activation.js';

/** Listener of a channel handle. */
export interface ChannelListener {
  onPublication?(pub: ReceivedPublication): void;
  onSubscribed?(event: SubscribedEvent): void;
  onState?(): void;
}

/**
 * The channel subscription shared by every hook of one client and channel.
 * It subscribes on first use and unsubscribes after the last hook unmounts;
 * when it is used again it resubscribes from the last position, so nothing
 * published in between is missed (or `recovered: false` says so).
 */
export class ChannelHandle {
  readonly channel: string;
  readonly #client: SynclineClient;
  readonly #listeners = new Set<ChannelListener>();
  readonly #activation: Activation;
  #sub: Subscription | undefined;
  #position: { epoch: string; offset: number } | undefined;

  constructor(client: SynclineClient, channel: string) {
    this.#client = client;
    this.channel = channel;
    this.#activation = new Activation(() => this.#start());
  }

  /** The live subscription, while some hook uses the channel. */
  get subscription(): Subscription | undefined {
    return this.#sub;
  }

  /** Adds a listener and keeps the subscription alive until the returned function is called. */
  use(listener: ChannelListener): () => void {
    return listenWhileActive(this.#activation, this.#listeners, listener);
  }

  #start(): () => void {
    const existing = this.#client.getSubscription(this.channel);
    const sub =
      existing && existing.state !== 'unsubscribed'
        ? existing
        : this.#client.subscribe(this.channel, this.#position ? { since: this.#position } : {});
    const owned = sub !== existing;
    this.#sub = sub;
    const offs = [
      sub.on('publication', (p) => {
        for (const l of [...this.#listeners]) l.onPublication?.(p);
      }),
      sub.on('subscribed', (e) => {
        for (const l of [...this.#listeners]) l.onSubscribed?.(e);
      }),
      sub.on('state', () => {
        for (const l of [...this.#listeners]) l.onState?.();
      }),
    ];
    return () => {
      for (const off of offs) off();
      this.#position = sub.position;
      this.#sub = undefined;
      if (owned) sub.unsubscribe();
      for (const l of [...this.#listeners]) l.onState?.();
    };
  }
}

/** The handle of a client's channel. */
export const channelHandle: (client: SynclineClient, channel: string) => ChannelHandle = cachePer(
  (client: SynclineClient, channel: string) => new ChannelHandle(client, channel),
);
