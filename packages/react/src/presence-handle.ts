import type { PresenceChannel, PresenceMember, SynclineClient } from '@syncline/client';
import { Activation, cachePer, listenWhileActive } from './activation.js';
import type { ExternalStore } from './store.js';

const NO_MEMBERS: readonly PresenceMember[] = [];

/**
 * A channel's presence shared by every hook of a client: watched while some
 * hook uses it, closed (left and unwatched) after the last one unmounts.
 * Hooks that enter register a state; the most recently set one is this
 * client's entry, and the entry leaves when no hook holds a state.
 */
export class PresenceHandle implements ExternalStore<readonly PresenceMember[]> {
  readonly channel: string;
  readonly #client: SynclineClient;
  readonly #listeners = new Set<() => void>();
  readonly #activation: Activation;
  readonly #states = new Map<symbol, unknown>();
  #presence: PresenceChannel | undefined;
  #sent: string | undefined;

  constructor(client: SynclineClient, channel: string) {
    this.#client = client;
    this.channel = channel;
    this.#activation = new Activation(() => this.#start());
  }

  get current(): readonly PresenceMember[] {
    return this.#presence?.members.current ?? NO_MEMBERS;
  }

  subscribe(listener: () => void): () => void {
    return listenWhileActive(this.#activation, this.#listeners, listener);
  }

  /** Sets the entry state of one hook (`undefined` removes it); keeps the channel open while set. */
  setState(key: symbol, state: unknown): void {
    if (state === undefined) this.#states.delete(key);
    else {
      this.#states.delete(key);
      this.#states.set(key, state);
    }
    this.#sync();
  }

  /** Keeps the channel watched until the returned function is called. */
  retain(): () => void {
    return this.#activation.retain();
  }

  #sync(): void {
    const p = this.#presence;
    if (!p) return;
    const states = [...this.#states.values()];
    if (states.length === 0) {
      if (this.#sent !== undefined) {
        this.#sent = undefined;
        p.leave().catch(() => undefined);
      }
      return;
    }
    const state = states[states.length - 1];
    const json = JSON.stringify(state);
    if (json === this.#sent) return;
    this.#sent = json;
    p.update(state).catch(() => undefined);
  }

  #start(): () => void {
    const p = this.#client.presence(this.channel);
    this.#presence = p;
    this.#sent = undefined;
    const notify = (): void => {
      for (const l of [...this.#listeners]) l();
    };
    const off = p.members.subscribe(notify);
    this.#sync();
    notify();
    return () => {
      off();
      this.#presence = undefined;
      this.#sent = undefined;
      p.close();
      notify();
    };
  }
}

/** The presence handle of a client's channel. */
export const presenceHandle: (client: SynclineClient, channel: string) => PresenceHandle = cachePer(
  (client: SynclineClient, channel: string) => new PresenceHandle(client, channel),
);
