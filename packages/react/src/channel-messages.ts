import type { ReceivedPublication, SubscribedEvent, SynclineClient } from '@syncline/client';
import { Activation, cachePer, listenWhileActive } from './activation.js';
import { type ChannelHandle, channelHandle } from './channel-handle.js';
import type { ExternalStore } from './store.js';

/** Options of `useChannelMessages`. */
export interface ChannelMessagesOptions {
  /** How many past publications to load from history on subscribe (default 50). */
  readonly history?: number;
  /** Most publications kept in memory, oldest dropped first (default 500). */
  readonly max?: number;
}

/** What `useChannelMessages` returns. */
export interface ChannelMessages<T = unknown> {
  /** Publications in offset order, each once. */
  readonly messages: readonly ReceivedPublication<T>[];
  /** `loading` until subscribed and the history is in; `live` after; `error` when refused. */
  readonly status: 'loading' | 'live' | 'error';
  /** Set when the server refused the subscription or the history read. */
  readonly error: Error | undefined;
}

const DEFAULT_HISTORY = 50;
const DEFAULT_MAX = 500;
const EMPTY: ChannelMessages = { messages: [], status: 'loading', error: undefined };

/**
 * A message buffer over a channel: the last `history` publications, then every
 * live one. Recovery after reconnects is the subscription's job; when it
 * reports a gap (`recovered: false`), the buffer reloads from history.
 */
export class ChannelMessageBuffer implements ExternalStore<ChannelMessages> {
  readonly #client: SynclineClient;
  readonly #handle: ChannelHandle;
  readonly #activation: Activation;
  readonly #listeners = new Set<() => void>();
  #current: ChannelMessages = EMPTY;
  #history: number | undefined;
  #max: number | undefined;
  #generation = 0;

  constructor(client: SynclineClient, channel: string) {
    this.#client = client;
    this.#handle = channelHandle(client, channel);
    this.#activation = new Activation(() => this.#start());
  }

  /** Applies options (the largest asked for wins). */
  configure(options: ChannelMessagesOptions): void {
    if (options.history !== undefined) this.#history = Math.max(this.#history ?? 0, options.history);
    if (options.max !== undefined) this.#max = Math.max(this.#max ?? 0, options.max);
  }

  get current(): ChannelMessages {
    return this.#current;
  }

  subscribe(listener: () => void): () => void {
    return listenWhileActive(this.#activation, this.#listeners, listener);
  }

  #set(next: ChannelMessages): void {
    this.#current = next;
    for (const l of [...this.#listeners]) l();
  }

  #start(): () => void {
    const stop = this.#handle.use({
      onPublication: (p) => this.#add([p]),
      onSubscribed: (e) => this.#onSubscribed(e),
    });
    // The channel may already be subscribed for another hook: load history now.
    const sub = this.#handle.subscription;
    const position = sub?.position;
    if (sub?.state === 'subscribed' && position && this.#current.status !== 'live') {
      this.#onSubscribed({ epoch: position.epoch, offset: position.offset, recovered: undefined });
    }
    return stop;
  }

  #onSubscribed(e: SubscribedEvent): void {
    if (e.recovered === true && this.#current.status === 'live') return;
    const generation = ++this.#generation;
    const count = this.#history ?? DEFAULT_HISTORY;
    const since = Math.max(0, e.offset - count);
    const channel = this.#handle.channel;
    this.#client.history(channel, { since, limit: count }).then(
      (h) => {
        if (generation !== this.#generation) return;
        const loaded = h.publications.map((p) => ({ ...p, channel }));
        // A gap or a new epoch: what we had may be stale, start over from history.
        const keep = e.recovered === false ? [] : this.#current.messages;
        this.#set({ messages: merge(keep, loaded, this.#max ?? DEFAULT_MAX), status: 'live', error: undefined });
      },
      (err: unknown) => {
        if (generation !== this.#generation) return;
        this.#set({ ...this.#current, status: 'error', error: err instanceof Error ? err : new Error(String(err)) });
      },
    );
  }

  #add(pubs: readonly ReceivedPublication[]): void {
    this.#set({ ...this.#current, messages: merge(this.#current.messages, pubs, this.#max ?? DEFAULT_MAX) });
  }
}

function merge(
  a: readonly ReceivedPublication[],
  b: readonly ReceivedPublication[],
  max: number,
): readonly ReceivedPublication[] {
  if (b.length === 0) return a;
  let out: ReceivedPublication[];
  const last = a[a.length - 1];
  const appendOnly = b.every(
    (p, i) => p.offset > (i === 0 ? (last?.offset ?? 0) : (b[i - 1] as ReceivedPublication).offset),
  );
  if (appendOnly) {
    out = [...a, ...b];
  } else {
    const byOffset = new Map<number, ReceivedPublication>();
    for (const p of a) byOffset.set(p.offset, p);
    for (const p of b) byOffset.set(p.offset, p);
    out = [...byOffset.values()].sort((x, y) => x.offset - y.offset);
  }
  return out.length > max ? out.slice(out.length - max) : out;
}

/** The message buffer of a client's channel. */
export const channelMessages: (client: SynclineClient, channel: string) => ChannelMessageBuffer = cachePer(
  (client: SynclineClient, channel: string) => new ChannelMessageBuffer(client, channel),
);
