import {
  type DocMutateResult,
  type MutatorArgs,
  type MutatorDefs,
  mutatorsVersion,
  type ResolvedMutator,
  resolveMutator,
  SynclineError,
  toSynclineError,
  UNDO_MUTATOR,
  undoMutator,
  validateWith,
} from '@syncline/protocol';
import { Emitter } from '../emitter.js';
import type { DocHost } from './doc-host.js';
import { DocSubscription } from './doc-subscription.js';
import { DocUndo, type DocUndoOptions } from './doc-undo.js';
import { MutationSender } from './mutation-sender.js';
import { type Entry, invalidArgs } from './pending-entry.js';
import { NO_PENDING, type PendingMutation, pendingSnapshot } from './pending-view.js';
import { ReplicaModel } from './replica-model.js';
import { ReplicaSaver } from './replica-saver.js';
import { memoryStore, type ReplicaStore } from './replica-store.js';
import type { UndoOrigin } from './undo-history.js';

const UNDO_RESOLVED = resolveMutator({ [UNDO_MUTATOR]: undoMutator }, UNDO_MUTATOR) as ResolvedMutator;

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
  /**
   * Keeps undo and redo stacks of this client's own mutations (`undo()`,
   * `redo()`, `batch()`); the namespace must have `undo: true` on the
   * server. Default off.
   */
  readonly undo?: boolean | DocUndoOptions;
}

/** Events of a replica. */
export interface DocEvents {
  /** The visible state or the status changed. */
  change: undefined;
  /** A mutation failed for good with no caller left to tell (e.g. made before a reload), or storage failed. */
  error: SynclineError;
  /** `canUndo` or `canRedo` changed. */
  history: undefined;
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
 * `DocSubscription` drives the subscription (subscribe on every connect,
 * resync after a gap, apply pushed ops); `ReplicaModel` holds the states
 * and the rebase rules, `ReplicaSaver` writes them to the store,
 * `MutationSender` sends persisted mutations and handles the verdicts, and
 * `DocUndo` keeps the undo history when enabled.
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
  readonly #subscription: DocSubscription;
  readonly #undo: DocUndo | undefined;
  readonly #events = new Emitter<DocEvents>();
  readonly #offs: Array<() => void> = [];
  #pendingView: readonly PendingMutation[] = NO_PENDING;
  #loaded = false;
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
    const model = new ReplicaModel({ ...options.mutators, [UNDO_MUTATOR]: undoMutator }, name, () => client.info?.user);
    this.#model = model;
    const undo = options.undo;
    this.#undo = undo
      ? new DocUndo(
          model,
          undo === true ? {} : undo,
          () => this.#events.emit('history', undefined),
          () => {
            model.rebase();
            this.#saver.persist();
            this.#emitChange();
          },
        )
      : undefined;
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
        return replica.#subscription.subscribed && !replica.#closed && client.state === 'connected';
      },
      get closed() {
        return replica.#closed;
      },
      ready: (e) => this.#undo?.ready(e) ?? true,
      request: (command, opts) => client.request(command, opts),
      persist: () => this.#saver.persist(),
      emitChange: () => this.#emitChange(),
      emitError: (err) => this.#events.emit('error', err),
    });
    this.#subscription = new DocSubscription(name, {
      client,
      model,
      get loaded() {
        return replica.#loaded;
      },
      get closed() {
        return replica.#closed;
      },
      persist: () => this.#saver.persist(),
      flushMutations: () => this.#sender.flush(),
      resetBackoff: () => this.#sender.resetBackoff(),
      retryLater: (fn) => this.#sender.retryLater(fn),
      markReady: () => this.#markReady(),
      emitChange: () => this.#emitChange(),
      emitError: (err) => this.#events.emit('error', err),
    });
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
    const mutate: Record<string, (args: unknown) => Promise<DocMutateResult>> = {};
    for (const key of Object.keys(options.mutators)) mutate[key] = (args) => this.#mutate(key, args);
    this.mutate = mutate as DocMutate<M>;
    this.#offs.push(client.onDocMessage(name, (msg) => this.#subscription.onMessage(msg)));
    this.#offs.push(client.onConnected(() => this.#subscription.subscribe()));
    this.#offs.push(
      client.on('state', (e) => {
        if (e.state === 'connected' || e.previous !== 'connected') return;
        this.#subscription.disconnected();
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
    if (!this.#subscription.subscribed) return this.#client.state === 'connected' ? 'loading' : 'offline';
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

  // --- undo and redo (see docs/documents.md, "Undo and redo") -------------------

  /** True when `undo()` has something to revert (always false without the `undo` option). */
  get canUndo(): boolean {
    return this.#undo?.canUndo ?? false;
  }

  /** True when `redo()` has something to re-apply (always false without the `undo` option). */
  get canRedo(): boolean {
    return this.#undo?.canRedo ?? false;
  }

  /**
   * Reverts this client's newest group of own mutations with a new
   * mutation (the built-in `$undo`): each change is reverted only where the
   * document still holds what this client wrote, so others' later changes
   * stay. Shows at once; resolves when the server applied it, with undefined
   * when there was nothing to undo. Its effect goes onto the redo stack.
   */
  undo(): Promise<DocMutateResult | undefined> {
    return this.#step('undo');
  }

  /** Re-applies the group the last `undo()` reverted (same rules as `undo()`); undefined when none. */
  redo(): Promise<DocMutateResult | undefined> {
    return this.#step('redo');
  }

  /**
   * Runs `fn` and makes every mutation it starts synchronously one undo
   * step (a transaction boundary: `undo()` reverts them together). Nestable.
   */
  batch<T>(fn: () => T): T {
    this.#undo?.beginBatch();
    try {
      return fn();
    } finally {
      this.#undo?.endBatch();
    }
  }

  #step(which: 'undo' | 'redo'): Promise<DocMutateResult | undefined> {
    if (this.#closed) return Promise.reject(new SynclineError('client_closed', 'The document replica was closed.'));
    const taken = this.#undo?.take(which);
    if (!taken) return Promise.resolve(undefined);
    const args = { steps: taken.steps };
    return this.#queue(UNDO_RESOLVED, UNDO_MUTATOR, args, args, which, (entry) =>
      this.#undo?.track(entry, taken.group),
    );
  }

  /** Stops syncing; pending mutations stay in the store for the next replica of this document. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#onClosed?.();
    this.#sender.stop();
    for (const off of this.#offs) off();
    this.#subscription.close();
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
    this.#subscription.subscribe();
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

  #queue(
    m: ResolvedMutator,
    name: string,
    args: unknown,
    runArgs: unknown,
    origin: UndoOrigin = 'edit',
    queued?: (entry: Entry) => void,
  ): Promise<DocMutateResult> {
    const ts = Date.now();
    const before = this.#model.visible;
    let ran: ReturnType<ReplicaModel['speculate']>;
    try {
      ran = this.#model.speculate(m, name, runArgs, ts);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const entry = this.#model.enqueue(name, args, runArgs, ts, ran ? ran.state : before);
      if (ran) this.#undo?.record(entry, before, ran, origin);
      queued?.(entry);
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
