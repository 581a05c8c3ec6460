import type { DocOptions, DocReplica, DocStatus, SynclineClient } from '@syncline/client';
import type { MutatorDefs } from '@syncline/protocol';
import { Activation, listenWhileActive } from './activation.js';
import type { ExternalStore } from './store.js';

/** What document hooks see of a replica; a new object after every change. */
export interface DocView<S> {
  /** Visible state: pending mutations replayed on the confirmed state (undefined while loading). */
  readonly state: S | undefined;
  /** The state the server confirmed last. */
  readonly confirmed: S | undefined;
  /** `loading`, `synced`, `pending` or `offline`. */
  readonly status: DocStatus;
  /** Last confirmed server version. */
  readonly version: number | undefined;
  /** Mutations awaiting the server. */
  readonly pendingCount: number;
}

const LOADING: DocView<never> = {
  state: undefined,
  confirmed: undefined,
  status: 'loading',
  version: undefined,
  pendingCount: 0,
};

/** How long a document stays open after its last hook unmounted. */
export const DOC_IDLE_CLOSE_MS = 2_000;

/**
 * The replica of one document shared by every hook of a client: opened on
 * first use, closed a little after the last hook unmounts (its pending
 * mutations stay in the replica store for the next open). While a close is
 * finishing, a new open waits for it, so one store never serves two live
 * replicas of the same document.
 */
export class DocHandle<S = unknown, M extends MutatorDefs = MutatorDefs> implements ExternalStore<DocView<S>> {
  readonly name: string;
  readonly #client: SynclineClient;
  readonly #listeners = new Set<() => void>();
  readonly #activation: Activation;
  #options: DocOptions<M>;
  #replica: DocReplica<S, M> | undefined;
  #closing: Promise<void> | undefined;
  #view: DocView<S> = LOADING;
  #waiting: Array<(r: DocReplica<S, M>) => void> = [];

  constructor(client: SynclineClient, name: string, options: DocOptions<M>) {
    this.#client = client;
    this.name = name;
    this.#options = options;
    this.#activation = new Activation(() => this.#start(), DOC_IDLE_CLOSE_MS);
  }

  /** The live replica, while some hook uses the document. */
  get replica(): DocReplica<S, M> | undefined {
    return this.#replica;
  }

  get current(): DocView<S> {
    return this.#view;
  }

  subscribe(listener: () => void): () => void {
    return listenWhileActive(this.#activation, this.#listeners, listener);
  }

  /** Keeps the document open until the returned function is called. */
  retain(): () => void {
    return this.#activation.retain();
  }

  /** The replica, opening the document for the duration of the call when no hook holds it. */
  withReplica<T>(fn: (replica: DocReplica<S, M>) => Promise<T>): Promise<T> {
    const release = this.#activation.retain();
    const run = (r: DocReplica<S, M>): Promise<T> => fn(r).finally(release);
    if (this.#replica) return run(this.#replica);
    return new Promise<DocReplica<S, M>>((resolve) => this.#waiting.push(resolve)).then(run);
  }

  #start(): () => void {
    let stopped = false;
    let off: (() => void) | undefined;
    const open = (): void => {
      if (stopped) return;
      const replica = this.#client.doc<M, S>(this.name, this.#options);
      this.#replica = replica;
      const update = (): void => {
        const previous = this.#view;
        // A reopened document shows what it showed before until its store has loaded.
        const loadingAgain = replica.current === undefined && previous.state !== undefined;
        this.#view = {
          state: loadingAgain ? previous.state : replica.current,
          confirmed: loadingAgain ? previous.confirmed : replica.confirmed,
          status: replica.status,
          version: replica.version,
          pendingCount: replica.pendingCount,
        };
        for (const l of [...this.#listeners]) l();
      };
      off = replica.subscribe(update);
      update();
      const waiting = this.#waiting;
      this.#waiting = [];
      for (const w of waiting) w(replica);
    };
    if (this.#closing) void this.#closing.then(open);
    else open();
    return () => {
      stopped = true;
      off?.();
      const replica = this.#replica;
      this.#replica = undefined;
      if (!replica) return;
      const closing = replica.close().finally(() => {
        if (this.#closing === closing) this.#closing = undefined;
      });
      this.#closing = closing;
    };
  }
}
