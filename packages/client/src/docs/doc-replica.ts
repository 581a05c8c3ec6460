import {
  applyPatches,
  type DocMutateResult,
  type DocOp,
  type DocSubscribeResult,
  type MutatorArgs,
  type MutatorDefs,
  mutatorsVersion,
  type ResolvedMutator,
  resolveMutator,
  runMutator,
  SynclineError,
  toSynclineError,
  validateWith,
} from '@syncline/protocol';
import type { SynclineClient } from '../client.js';
import { randomId } from '../client.js';
import { Emitter } from '../emitter.js';
import { type Entry, invalidArgs, makeEntry, replay } from './pending-entry.js';
import { memoryStore, type PersistedMutation, type ReplicaRecord, type ReplicaStore } from './replica-store.js';

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
export interface DocEvents extends Record<string, unknown> {
  /** The visible state or the status changed. */
  change: undefined;
  /** A mutation failed for good with no caller left to tell (e.g. made before a reload), or storage failed. */
  error: SynclineError;
}

/** `mutate.<name>(args)`: one function per mutator. */
export type DocMutate<M extends MutatorDefs> = {
  readonly [K in keyof M & string]: (args: MutatorArgs<M[K]>) => Promise<DocMutateResult>;
};

const MAX_RETRY_DELAY_MS = 5_000;

/**
 * A client replica of one document: the confirmed state (last server
 * version) plus the pending mutations replayed on top of it. Mutations show
 * in `current` at once and are confirmed, rebased or rolled back as the
 * server answers.
 */
export class DocReplica<S = unknown, M extends MutatorDefs = MutatorDefs> {
  /** Document name. */
  readonly name: string;
  /** One function per mutator; each resolves when the server confirms (or rejects with its error). */
  readonly mutate: DocMutate<M>;
  /** Resolves once a state is known (from the store or the server). */
  readonly ready: Promise<void>;
  readonly #client: SynclineClient;
  readonly #mutators: M;
  readonly #mutatorVersion: number | undefined;
  readonly #store: ReplicaStore;
  readonly #events = new Emitter<DocEvents>();
  readonly #offs: Array<() => void> = [];
  #clientId = randomId();
  #nextId = 1;
  #confirmed: { version: number; state: unknown } | undefined;
  #pending: Entry[] = [];
  /** Entries passed by a later own op: the server rejected them and the verdict is on its way. */
  readonly #orphans = new Map<number, Entry>();
  #visible: unknown;
  #loaded = false;
  #subscribed = false;
  #subscribing = false;
  #closed = false;
  #dirty = false;
  #saving = false;
  #sendSeq = 0;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #markReady: () => void = () => undefined;
  readonly #onClosed: (() => void) | undefined;

  constructor(client: SynclineClient, name: string, options: DocOptions<M>, onClosed?: () => void) {
    this.#client = client;
    this.#onClosed = onClosed;
    this.name = name;
    this.#mutators = options.mutators;
    this.#mutatorVersion = mutatorsVersion(options.mutators);
    this.#store = options.store ?? memoryStore();
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
    const mutate: Record<string, (args: unknown) => Promise<DocMutateResult>> = {};
    for (const key of Object.keys(options.mutators)) mutate[key] = (args) => this.#mutate(key, args);
    this.mutate = mutate as DocMutate<M>;
    this.#offs.push(client.addMessageHandler((msg) => this.#onMessage(msg)));
    this.#offs.push(client.onConnected(() => this.#subscribe()));
    this.#offs.push(
      client.on('state', (e) => {
        if (e.state === 'connected' || e.previous !== 'connected') return;
        this.#subscribed = false;
        for (const p of this.#pending) p.sendSeq = 0;
        this.#emitChange();
      }),
    );
    void this.#load();
  }

  /** The visible state: pending mutations replayed on the confirmed state (undefined while loading). */
  get current(): S | undefined {
    return this.#visible as S | undefined;
  }

  /** Last confirmed server version (undefined while loading). */
  get version(): number | undefined {
    return this.#confirmed?.version;
  }

  /** The state the server confirmed last. */
  get confirmed(): S | undefined {
    return this.#confirmed?.state as S | undefined;
  }

  /** See `DocStatus`. */
  get status(): DocStatus {
    if (!this.#confirmed) return 'loading';
    if (!this.#subscribed) return this.#client.state === 'connected' ? 'loading' : 'offline';
    return this.#pending.length > 0 ? 'pending' : 'synced';
  }

  /** Number of mutations awaiting the server. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** This replica's client id on the server. */
  get clientId(): string {
    return this.#clientId;
  }

  /** Calls `listener` whenever `current` or `status` changes; returns the remover. */
  subscribe(listener: () => void): () => void {
    return this.#events.on('change', () => listener());
  }

  /** Adds an event listener; returns the remover. */
  on<K extends keyof DocEvents>(event: K, listener: (p: DocEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Resolves once every pending mutation made so far is written to the store. */
  async flush(): Promise<void> {
    while (this.#saving || this.#dirty) await new Promise((r) => setTimeout(r, 1));
  }

  /** Stops syncing; pending mutations stay in the store for the next replica of this document. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#onClosed?.();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    for (const off of this.#offs) off();
    if (this.#subscribed && this.#client.state === 'connected') {
      this.#client.request({ type: 'doc.unsubscribe', doc: this.name }).catch(() => undefined);
    }
    this.#subscribed = false;
    const err = new SynclineError('client_closed', 'The document replica was closed.');
    for (const e of this.#pending) for (const w of e.waiters.splice(0)) w.reject(err);
    this.#events.clear();
  }

  // --- loading and subscribing ------------------------------------------------

  async #load(): Promise<void> {
    try {
      const rec = await this.#store.load(this.name);
      if (rec) {
        this.#clientId = rec.clientId;
        this.#nextId = Math.max(this.#nextId, rec.nextMutationId);
        if (rec.confirmed && !this.#confirmed) this.#confirmed = { ...rec.confirmed };
        const loaded = rec.pending.map((p) => this.#entry(p, true));
        this.#pending = [...loaded, ...this.#pending];
      }
    } catch (err) {
      this.#events.emit('error', toSynclineError(err));
    }
    this.#loaded = true;
    this.#rebase();
    if (this.#confirmed) this.#markReady();
    this.#emitChange();
    this.#subscribe();
  }

  #entry(p: PersistedMutation, persisted: boolean): Entry {
    return makeEntry(this.#mutators, p, persisted);
  }

  #subscribe(): void {
    if (!this.#loaded || this.#closed || this.#subscribing || this.#subscribed) return;
    if (this.#client.state !== 'connected') return;
    this.#subscribing = true;
    const cmd: Record<string, unknown> = { type: 'doc.subscribe', doc: this.name, clientId: this.#clientId };
    if (this.#confirmed) cmd.version = this.#confirmed.version;
    this.#client.request(cmd, { timeoutMs: 0 }).then(
      (r) => {
        this.#subscribing = false;
        if (this.#closed) return;
        if (this.#client.state !== 'connected') return;
        this.#onSubscribed(r as DocSubscribeResult);
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
        if (err.group === 'retry') this.#retryLater(() => this.#subscribe());
      },
    );
  }

  #onSubscribed(r: DocSubscribeResult): void {
    if (r.ops === undefined || !this.#confirmed) {
      this.#confirmed = { version: r.version, state: r.snapshot };
    } else {
      for (const op of r.ops) this.#applyOp(op);
      if (this.#confirmed.version !== r.version) {
        this.#resync();
        return;
      }
    }
    this.#confirmUpTo(r.lastMutationId, { version: r.version, duplicate: true });
    this.#dropAcked();
    this.#nextId = Math.max(this.#nextId, r.lastMutationId + 1);
    this.#subscribed = true;
    this.#attempt = 0;
    this.#rebase();
    this.#markReady();
    this.#persist();
    this.#emitChange();
    this.#flushSends();
  }

  /** Unsubscribes and subscribes again (after a gap in versions). */
  #resync(): void {
    this.#subscribed = false;
    this.#subscribing = true;
    this.#client.request({ type: 'doc.unsubscribe', doc: this.name }).then(
      () => {
        this.#subscribing = false;
        this.#subscribe();
      },
      () => {
        this.#subscribing = false;
        this.#subscribe();
      },
    );
  }

  // --- server messages ----------------------------------------------------------

  #onMessage(msg: Record<string, unknown>): boolean {
    if (this.#closed || msg.doc !== this.name) return false;
    if (msg.type === 'doc.patch') {
      if (!this.#subscribed || !this.#confirmed) return true;
      const before = this.#confirmed.version;
      if (!this.#applyOp(msg as unknown as DocOp)) {
        this.#resync();
        return true;
      }
      if (this.#confirmed.version === before) return true;
      this.#dropAcked();
      this.#rebase();
      this.#persist();
      this.#emitChange();
      return true;
    }
    if (msg.type === 'doc.unsubscribed') {
      this.#subscribed = false;
      this.#events.emit('error', new SynclineError(String(msg.code) as 'forbidden', String(msg.message)));
      this.#emitChange();
      return true;
    }
    return false;
  }

  /** Applies one op to the confirmed state; false on a gap. */
  #applyOp(op: DocOp): boolean {
    const c = this.#confirmed;
    if (!c) return false;
    if (op.version <= c.version) return true;
    if (op.version !== c.version + 1) return false;
    this.#confirmed = { version: op.version, state: applyPatches(c.state, op.patches) };
    if (op.clientId === this.#clientId && op.mutationId !== undefined) {
      this.#confirmUpTo(op.mutationId, { version: op.version }, true);
    }
    return true;
  }

  /**
   * Drops pending entries with ids up to `id`: the server has them. With
   * `exact` (an own op), only `id` succeeded: earlier ones were rejected and
   * wait for their error reply.
   */
  #confirmUpTo(id: number, result: DocMutateResult, exact = false): void {
    while (this.#pending.length > 0 && (this.#pending[0] as Entry).id <= id) {
      const e = this.#pending.shift() as Entry;
      if (exact && e.id !== id && e.waiters.length > 0 && e.sendSeq !== 0) {
        this.#orphans.set(e.id, e);
        continue;
      }
      for (const w of e.waiters.splice(0)) w.resolve(result);
    }
  }

  #dropAcked(): void {
    const v = this.#confirmed?.version ?? 0;
    const before = this.#pending.length;
    this.#pending = this.#pending.filter((e) => e.ackedVersion === undefined || e.ackedVersion > v);
    if (this.#pending.length !== before) this.#persist();
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
    let next = this.#visible;
    if (this.#confirmed) {
      try {
        next = runMutator(this.#visible, m.run, runArgs, this.#meta(this.#nextId, ts)).state;
      } catch (err) {
        return Promise.reject(
          new SynclineError('mutation_failed', `Mutator "${name}" failed: ${toSynclineError(err).message}`, {
            cause: err,
          }),
        );
      }
    }
    return new Promise((resolve, reject) => {
      const entry = this.#entry({ id: this.#nextId++, name, args, ts }, false);
      entry.runArgs = runArgs;
      entry.waiters.push({ resolve, reject });
      this.#pending.push(entry);
      this.#visible = next;
      this.#persist();
      this.#emitChange();
    });
  }

  #meta(id: number, ts: number) {
    return {
      doc: this.name,
      clientId: this.#clientId,
      mutationId: id,
      userId: this.#client.info?.user,
      timestamp: ts,
      location: 'client' as const,
    };
  }

  /** Replays the pending mutations on the confirmed state. */
  #rebase(): void {
    if (!this.#confirmed) return;
    this.#visible = replay(this.#mutators, this.#confirmed.state, this.#pending, (e) => this.#meta(e.id, e.ts));
  }

  #flushSends(): void {
    if (!this.#subscribed || this.#retryTimer || this.#closed || this.#client.state !== 'connected') return;
    for (const e of this.#pending) {
      if (!e.persisted) break;
      if (e.sendSeq === 0 && e.ackedVersion === undefined) this.#send(e);
    }
  }

  #send(e: Entry): void {
    const seq = ++this.#sendSeq;
    e.sendSeq = seq;
    const cmd = {
      type: 'doc.mutate',
      doc: this.name,
      clientId: this.#clientId,
      mutationId: e.id,
      name: e.name,
      args: e.args ?? null,
      ...(this.#mutatorVersion === undefined ? {} : { mutatorVersion: this.#mutatorVersion }),
    };
    this.#client.request(cmd, { timeoutMs: 0 }).then(
      (r) => this.#onAck(e, seq, r as DocMutateResult),
      (err: SynclineError) => this.#onNack(e, seq, err),
    );
  }

  #onAck(e: Entry, seq: number, r: DocMutateResult): void {
    if (e.sendSeq !== seq) return;
    e.sendSeq = 0;
    this.#orphans.delete(e.id);
    this.#attempt = 0;
    e.ackedVersion = r.version;
    for (const w of e.waiters.splice(0)) w.resolve(r);
    if (this.#pending.includes(e) && (this.#confirmed?.version ?? 0) >= r.version) {
      this.#dropAcked();
      this.#rebase();
      this.#emitChange();
    }
  }

  #onNack(e: Entry, seq: number, err: SynclineError): void {
    if (e.sendSeq !== seq) return;
    e.sendSeq = 0;
    if (this.#orphans.get(e.id) === e) {
      this.#orphans.delete(e.id);
      const lost = err.code === 'connection_lost' || err.code === 'client_closed';
      const why = lost
        ? new SynclineError('mutation_failed', 'The server rejected this mutation; its reply was lost.')
        : err;
      for (const w of e.waiters.splice(0)) w.reject(why);
      return;
    }
    const i = this.#pending.indexOf(e);
    if (i < 0 || this.#closed || err.code === 'connection_lost' || err.code === 'client_closed') return;
    if (err.code === 'mutation_out_of_order') {
      const expected = err.details?.expected;
      const lowest = (this.#pending[0] as Entry).id;
      if (typeof expected === 'number' && expected < lowest) this.#newIdentity();
      else this.#retryLater(() => this.#flushSends());
      return;
    }
    if (err.group === 'retry' || err.code === 'token_expired' || err.code === 'unauthorized') {
      this.#retryLater(() => this.#flushSends());
      return;
    }
    // Permanent: roll back (with `forbidden` or `client_outdated`, every later mutation would fail too;
    // neither uses up the id).
    const all = err.code === 'forbidden' || err.code === 'client_outdated';
    const dropped = all ? this.#pending.splice(i) : this.#pending.splice(i, 1);
    if (all) this.#nextId = e.id;
    for (const d of dropped) {
      if (d.waiters.length === 0) this.#events.emit('error', err);
      for (const w of d.waiters.splice(0)) w.reject(err);
    }
    this.#rebase();
    this.#persist();
    this.#emitChange();
  }

  /** The server lost track of this client (restored storage): continue under a new id. */
  #newIdentity(): void {
    this.#clientId = randomId();
    let id = 1;
    for (const p of this.#pending) {
      p.id = id++;
      p.persisted = false;
      p.sendSeq = 0;
    }
    this.#nextId = id;
    this.#persist();
  }

  #retryLater(fn: () => void): void {
    for (const p of this.#pending) p.sendSeq = 0;
    if (this.#retryTimer) return;
    const delay = Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** this.#attempt) * (0.5 + Math.random() / 2);
    this.#attempt++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      fn();
    }, delay);
  }

  // --- persistence and notification ----------------------------------------------

  #record(): ReplicaRecord {
    const pending = this.#pending.map(({ id, name, args, ts }) => ({ id, name, args, ts }));
    const base = { clientId: this.#clientId, nextMutationId: this.#nextId, pending };
    return this.#confirmed ? { ...base, confirmed: this.#confirmed } : base;
  }

  #persist(): void {
    this.#dirty = true;
    if (!this.#saving && !this.#closed) void this.#saveLoop();
  }

  async #saveLoop(): Promise<void> {
    this.#saving = true;
    while (this.#dirty && !this.#closed) {
      this.#dirty = false;
      const included = [...this.#pending];
      try {
        await this.#store.save(this.name, this.#record());
      } catch (err) {
        this.#events.emit('error', toSynclineError(err));
        this.#saving = false;
        this.#retryLater(() => this.#persist());
        return;
      }
      for (const e of included) e.persisted = true;
      this.#flushSends();
    }
    this.#saving = false;
  }

  #emitChange(): void {
    this.#events.emit('change', undefined);
  }
}
