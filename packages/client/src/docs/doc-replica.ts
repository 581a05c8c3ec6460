import {
  type CommandInput,
  type DocMutateResult,
  type DocOp,
  type DocServerMessage,
  type DocSubscribeResult,
  type MutatorArgs,
  type MutatorDefs,
  mutatorsVersion,
  type ResolvedMutator,
  resolveMutator,
  SynclineError,
  toSynclineError,
  validateWith,
} from '@syncline/protocol';
import { Emitter } from '../emitter.js';
import type { DocHost } from './doc-host.js';
import { MutationSender } from './mutation-sender.js';
import { invalidArgs } from './pending-entry.js';
import { NO_PENDING, type PendingMutation, pendingSnapshot } from './pending-view.js';
import { ReplicaModel } from './replica-model.js';
import { ReplicaSaver } from './replica-saver.js';
import { memoryStore, type ReplicaStore } from './replica-store.js';
import { SnapshotChunks } from './snapshot-chunks.js';

/**
 * Status of a replica:
 * - `loading`: no state yet, or (re)subscribing after a connect;
 * - `synced`: subscribed, nothing pending;
 * - `pending`: subscribed, own mutations await the server;
 * - `offline`: not connected; `current` shows the last known state plus pending mutations.
 */
export type DocStatus = 'loading' | 'synced' | 'pending' | 'offline';

/** Options of `client.doc(name, options)`. */
export interface DocOptions<M extends MutatorDefs> {
  /** The document namespace's mutators (the same `defineMutators` object as the server's). */
  readonly mutators: M;
  /** Where pending mutations and the last confirmed state are kept (default: memory). */
  readonly store?: ReplicaStore;
}

/** Events of a replica. */
export interface DocEvents {
  /** The visible state or the status changed. */
  change: undefined;
  /** A mutation failed for good with no caller left to tell (e.g. made before a reload), or storage failed. */
  error: SynclineError;
}

/** `mutate.<name>(args)`: one function per mutator. */
export type DocMutate<M extends MutatorDefs> = {
  readonly [K in keyof M & string]: (args: MutatorArgs<M[K]>) => Promise<DocMutateResult>;
};

/**
 * A client replica of one document: the confirmed state (last server
 * version) plus the pending mutations replayed on top of it. Mutations show
 * in `current` at once and are confirmed, rebased or rolled back as the
 * server answers.
 *
 * The replica drives the subscription (subscribe on every connect, resync
 * after a gap, apply pushed ops); `ReplicaModel` holds the states and the
 * rebase rules, `ReplicaSaver` writes them to the store, and
 * `MutationSender` sends persisted mutations and handles the verdicts.
 */
export class DocReplica<S = unknown, M extends MutatorDefs = MutatorDefs> {
  /** Document name. */
  readonly name: string;
  /** One function per mutator; each resolves when the server confirms (or rejects with its error). */
  readonly mutate: DocMutate<M>;
  /** Resolves once a state is known (from the store or the server). */
  readonly ready: Promise<void>;
  readonly #client: DocHost;
  readonly #mutators: M;
  readonly #model: ReplicaModel;
  readonly #saver: ReplicaSaver;
  readonly #sender: MutationSender;
  readonly #events = new Emitter<DocEvents>();
  readonly #offs: Array<() => void> = [];
  #pendingView: readonly PendingMutation[] = NO_PENDING;
  #loaded = false;
  #subscribed = false;
  #subscribing = false;
  /** Patches that arrived while a subscribe was in flight (its reply may be handled after them). */
  #early: DocOp[] = [];
  /** Pieces of a snapshot sent in chunks, and the reply that announced them. */
  readonly #chunks = new SnapshotChunks();
  #chunked: DocSubscribeResult | undefined;
  #closed = false;
  #markReady: () => void = () => undefined;
  readonly #onClosed: (() => void) | undefined;

  /**
   * Made by `client.doc(name, options)` (one replica per name); `onClosed`
   * runs once when `close()` ends it.
   */
  constructor(client: DocHost, name: string, options: DocOptions<M>, onClosed?: () => void) {
    this.#client = client;
    this.#onClosed = onClosed;
    this.name = name;
    this.#mutators = options.mutators;
    const model = new ReplicaModel(options.mutators, name, () => client.info?.user);
    this.#model = model;
    const replica = this;
    this.#saver = new ReplicaSaver(options.store ?? memoryStore(), name, {
      get closed() {
        return replica.#closed;
      },
      get pending() {
        return model.pending;
      },
      record: () => model.record(),
      onSaved: () => this.#sender.flush(),
      onSaveError: (err) => this.#events.emit('error', err),
      retryLater: (persist) => this.#sender.retryLater(persist),
    });
    this.#sender = new MutationSender({
      doc: name,
      model,
      mutatorVersion: mutatorsVersion(options.mutators),
      get canSend() {
        return replica.#subscribed && !replica.#closed && client.state === 'connected';
      },
      get closed() {
        return replica.#closed;
      },
      request: (command, opts) => client.request(command, opts),
      persist: () => this.#saver.persist(),
      emitChange: () => this.#emitChange(),
      emitError: (err) => this.#events.emit('error', err),
    });
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
    const mutate: Record<string, (args: unknown) => Promise<DocMutateResult>> = {};
    for (const key of Object.keys(options.mutators)) mutate[key] = (args) => this.#mutate(key, args);
    this.mutate = mutate as DocMutate<M>;
    this.#offs.push(client.onDocMessage(name, (msg) => this.#onMessage(msg)));
    this.#offs.push(client.onConnected(() => this.#subscribe()));
    this.#offs.push(
      client.on('state', (e) => {
        if (e.state === 'connected' || e.previous !== 'connected') return;
        this.#subscribed = false;
        this.#early = [];
        if (this.#chunked) this.#subscribing = false;
        this.#chunked = undefined;
        this.#chunks.reset();
        this.#sender.markAllUnsent();
        this.#emitChange();
      }),
    );
    void this.#load();
  }

  /** The visible state: pending mutations replayed on the confirmed state (undefined while loading). */
  get current(): S | undefined {
    return this.#model.visible as S | undefined;
  }

  /** Last confirmed server version (undefined while loading). */
  get version(): number | undefined {
    return this.#model.confirmed?.version;
  }

  /** The state the server confirmed last. */
  get confirmed(): S | undefined {
    return this.#model.confirmed?.state as S | undefined;
  }

  /** See `DocStatus`. */
  get status(): DocStatus {
    if (!this.#model.confirmed) return 'loading';
    if (!this.#subscribed) return this.#client.state === 'connected' ? 'loading' : 'offline';
    return this.#model.pending.length > 0 ? 'pending' : 'synced';
  }

  /** Number of mutations awaiting the server. */
  get pendingCount(): number {
    return this.#model.pending.length;
  }

  /**
   * The mutations awaiting the server, oldest first (to show "sending…"
   * without diffing states). A read-only snapshot taken with each `change`
   * notification, so it changes together with `current`; the same array
   * while nothing in it changed.
   */
  get pending(): readonly PendingMutation[] {
    return this.#pendingView;
  }

  /**
   * True once `close()` has stopped the replica (it first waits for pending
   * writes to the store). A closed replica rejects mutations with
   * `client_closed`; `client.doc(name)` then opens a new one.
   */
  get closed(): boolean {
    return this.#closed;
  }

  /** This replica's client id on the server. */
  get clientId(): string {
    return this.#model.clientId;
  }

  /** Calls `listener` whenever `current`, `pending` or `status` changes; returns the remover. */
  subscribe(listener: () => void): () => void {
    return this.#events.on('change', () => listener());
  }

  /** Adds an event listener; returns the remover. */
  on<K extends keyof DocEvents>(event: K, listener: (p: DocEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Resolves once every pending mutation made so far is written to the store. */
  flush(): Promise<void> {
    return this.#saver.flush();
  }

  /** Stops syncing; pending mutations stay in the store for the next replica of this document. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#onClosed?.();
    this.#sender.stop();
    for (const off of this.#offs) off();
    if (this.#subscribed && this.#client.state === 'connected') {
      this.#client.request({ type: 'doc.unsubscribe', doc: this.name }).catch(() => undefined);
    }
    this.#subscribed = false;
    const err = new SynclineError('client_closed', 'The document replica was closed.');
    for (const e of this.#model.pending) for (const w of e.waiters.splice(0)) w.reject(err);
    this.#events.clear();
  }

  // --- loading and subscribing ------------------------------------------------

  async #load(): Promise<void> {
    try {
      const rec = await this.#saver.load();
      if (rec) this.#model.restore(rec);
    } catch (err) {
      this.#events.emit('error', toSynclineError(err));
    }
    this.#loaded = true;
    this.#model.rebase();
    if (this.#model.confirmed) this.#markReady();
    this.#emitChange();
    this.#subscribe();
  }

  #subscribe(): void {
    if (!this.#loaded || this.#closed || this.#subscribing || this.#subscribed) return;
    if (this.#client.state !== 'connected') return;
    this.#subscribing = true;
    const cmd: CommandInput<'doc.subscribe'> = {
      type: 'doc.subscribe',
      doc: this.name,
      clientId: this.#model.clientId,
      chunks: true,
    };
    const confirmed = this.#model.confirmed;
    if (confirmed) cmd.version = confirmed.version;
    this.#chunks.reset();
    this.#client.request(cmd, { timeoutMs: 0 }).then(
      (result) => {
        if (this.#closed || this.#client.state !== 'connected') {
          this.#subscribing = false;
          return;
        }
        if (result.chunks !== undefined) {
          // A large snapshot follows in pieces; patches keep collecting in `#early` until it is whole.
          this.#chunked = result;
          this.#chunks.expect(result.version, result.chunks);
          this.#takeChunked();
          return;
        }
        this.#subscribing = false;
        this.#onSubscribed(result);
      },
      (err: SynclineError) => {
        this.#subscribing = false;
        if (this.#closed || err.code === 'connection_lost' || err.code === 'client_closed') return;
        if (err.code === 'already_subscribed') {
          // A previous subscribe on this connection is still active: resync it.
          this.#resync();
          return;
        }
        this.#events.emit('error', err);
        if (err.group === 'retry') this.#sender.retryLater(() => this.#subscribe());
      },
    );
  }

  #onSubscribed(r: DocSubscribeResult): void {
    const model = this.#model;
    // The server sends the reply before any later op, but a client may handle the reply (a promise)
    // after patches that arrived in the same read: those were kept and apply on top of the reply.
    const early = this.#early;
    this.#early = [];
    if (r.ops === undefined || !model.confirmed) {
      model.setConfirmed(r.version, r.snapshot);
    } else {
      for (const op of r.ops) model.applyOp(op);
      if (model.confirmed.version !== r.version) {
        this.#resync();
        return;
      }
    }
    for (const op of early) {
      if (!model.applyOp(op)) {
        this.#resync();
        return;
      }
    }
    model.confirmUpTo(r.lastMutationId, { version: r.version, duplicate: true });
    this.#dropAcked();
    model.skipIdsUpTo(r.lastMutationId);
    model.renewIfForgotten(r.lastMutationId);
    this.#subscribed = true;
    this.#sender.resetBackoff();
    model.rebase();
    this.#markReady();
    this.#saver.persist();
    this.#emitChange();
    this.#sender.flush();
  }

  /** Completes a chunked subscribe once every piece of its snapshot is in. */
  #takeChunked(): void {
    const reply = this.#chunked;
    if (!reply) return;
    let taken: { readonly state: unknown } | undefined;
    try {
      taken = this.#chunks.take();
    } catch {
      this.#resync();
      return;
    }
    if (!taken) return;
    this.#chunked = undefined;
    this.#subscribing = false;
    this.#onSubscribed({ version: reply.version, snapshot: taken.state, lastMutationId: reply.lastMutationId });
  }

  /** Unsubscribes and subscribes again (after a gap in versions). */
  #resync(): void {
    this.#subscribed = false;
    this.#subscribing = true;
    this.#early = [];
    this.#chunked = undefined;
    this.#chunks.reset();
    const again = (): void => {
      this.#subscribing = false;
      this.#subscribe();
    };
    this.#client.request({ type: 'doc.unsubscribe', doc: this.name }).then(again, again);
  }

  // --- server messages ----------------------------------------------------------

  #onMessage(msg: DocServerMessage): boolean {
    if (this.#closed || msg.doc !== this.name) return false;
    if (msg.type === 'doc.patch') {
      const confirmed = this.#model.confirmed;
      if (!this.#subscribed) {
        if (this.#subscribing) this.#early.push(msg);
        return true;
      }
      if (!confirmed) return true;
      const before = confirmed.version;
      if (!this.#model.applyOp(msg)) {
        this.#resync();
        return true;
      }
      if (this.#model.confirmed?.version === before) return true;
      this.#dropAcked();
      this.#model.rebase();
      this.#saver.persist();
      this.#emitChange();
      return true;
    }
    if (msg.type === 'doc.snapshot') {
      if (!this.#subscribing) return true;
      // A piece out of order before the reply is a leftover of an earlier subscribe; after it, a fault.
      if (this.#chunks.add(msg)) this.#takeChunked();
      else if (this.#chunked) this.#resync();
      return true;
    }
    if (msg.type === 'doc.unsubscribed') {
      this.#subscribed = false;
      this.#events.emit('error', new SynclineError(msg.code, msg.message));
      this.#emitChange();
      return true;
    }
    return false;
  }

  #dropAcked(): void {
    if (this.#model.dropAcked()) this.#saver.persist();
  }

  // --- mutations ----------------------------------------------------------------

  #mutate(name: string, args: unknown): Promise<DocMutateResult> {
    if (this.#closed) return Promise.reject(new SynclineError('client_closed', 'The document replica was closed.'));
    const m = resolveMutator(this.#mutators, name);
    if (!m) return Promise.reject(new SynclineError('unknown_mutator', `No mutator "${name}".`));
    if (m.args) {
      const check = validateWith(m.args, args);
      if (check instanceof Promise) {
        return check.then((c) =>
          c.ok ? this.#queue(m, name, args, c.value) : Promise.reject(invalidArgs(name, c.issues)),
        );
      }
      if (!check.ok) return Promise.reject(invalidArgs(name, check.issues));
      return this.#queue(m, name, args, check.value);
    }
    return this.#queue(m, name, args, args);
  }

  #queue(m: ResolvedMutator, name: string, args: unknown, runArgs: unknown): Promise<DocMutateResult> {
    const ts = Date.now();
    let next: unknown;
    try {
      next = this.#model.speculate(m, name, runArgs, ts);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const entry = this.#model.enqueue(name, args, runArgs, ts, next);
      entry.waiters.push({ resolve, reject });
      this.#saver.persist();
      this.#emitChange();
    });
  }

  // --- notification ---------------------------------------------------------------

  #emitChange(): void {
    this.#pendingView = pendingSnapshot(this.#pendingView, this.#model.pending);
    this.#events.emit('change', undefined);
  }
}
