import {
  applyPatches,
  type DocMutateResult,
  type DocOp,
  type MutationMeta,
  type MutationResult,
  type MutatorDefs,
  type ResolvedMutator,
  runMutator,
  SynclineError,
  toSynclineError,
} from '@syncline/protocol';
import { randomId } from '../random-id.js';
import { type Entry, makeEntry, replay } from './pending-entry.js';
import type { ReplicaRecord } from './replica-store.js';

/** A state the server confirmed, at its version. */
export interface ConfirmedState {
  readonly version: number;
  readonly state: unknown;
}

/** Told of what changes the confirmed state (undo history follows it). */
export interface ModelObserver {
  /** `op` took the confirmed state from `before` to `after`; `own` is the pending entry it confirms, if any. */
  op(op: DocOp, before: unknown, after: unknown, own: Entry | undefined): void;
  /** The confirmed state was replaced by a snapshot. */
  reset(): void;
}

/**
 * The data of a replica and the rules that keep it consistent: the
 * confirmed state (last server version), the pending mutations in id order,
 * and the visible state (pending mutations replayed on the confirmed one).
 * Server ops advance the confirmed state and confirm own mutations; a rebase
 * recomputes the visible state. No I/O: the replica decides when to persist,
 * send and notify.
 */
export class ReplicaModel {
  readonly #mutators: MutatorDefs;
  readonly #doc: string;
  readonly #userId: () => string | undefined;
  #clientId = randomId();
  /** When this process took the current client id (0: restored or first one; ages count from each mutation). */
  #identitySince = 0;
  #nextId = 1;
  #confirmed: ConfirmedState | undefined;
  #pending: Entry[] = [];
  /** Entries passed by a later own op: the server rejected them and the verdict is on its way. */
  readonly #orphans = new Map<number, Entry>();
  #visible: unknown;
  #observer: ModelObserver | undefined;

  /** `userId` is the connected user (for mutator metadata). */
  constructor(mutators: MutatorDefs, doc: string, userId: () => string | undefined) {
    this.#mutators = mutators;
    this.#doc = doc;
    this.#userId = userId;
  }

  /** This replica's client id on the server. */
  get clientId(): string {
    return this.#clientId;
  }

  /**
   * Age of a pending mutation as the server judges a first mutation: from
   * when it was made, or from when this client id was taken if later (it
   * cannot have been applied under this id before that).
   */
  ageMs(e: Entry, now: number): number {
    return Math.max(0, now - Math.max(e.ts, this.#identitySince));
  }

  /** The last confirmed state, if known. */
  get confirmed(): ConfirmedState | undefined {
    return this.#confirmed;
  }

  /** Pending mutations replayed on the confirmed state. */
  get visible(): unknown {
    return this.#visible;
  }

  /** Mutations awaiting the server, in id order. */
  get pending(): readonly Entry[] {
    return this.#pending;
  }

  /** Takes what a store kept (loaded after mutations may have been made: those keep their place after). */
  restore(rec: ReplicaRecord): void {
    this.#clientId = rec.clientId;
    this.#nextId = Math.max(this.#nextId, rec.nextMutationId);
    if (rec.confirmed && !this.#confirmed) this.#confirmed = { ...rec.confirmed };
    const loaded = rec.pending.map((p) => makeEntry(this.#mutators, p, true));
    this.#pending = [...loaded, ...this.#pending];
  }

  /** What a store keeps. */
  record(): ReplicaRecord {
    const pending = this.#pending.map(({ id, name, args, ts }) => ({ id, name, args, ts }));
    const base = { clientId: this.#clientId, nextMutationId: this.#nextId, pending };
    return this.#confirmed ? { ...base, confirmed: this.#confirmed } : base;
  }

  /** Sets the one observer of confirmed-state changes. */
  observe(observer: ModelObserver): void {
    this.#observer = observer;
  }

  /** Replaces the confirmed state (a snapshot from the server). */
  setConfirmed(version: number, state: unknown): void {
    this.#confirmed = { version, state };
    this.#observer?.reset();
  }

  /** The server has seen mutation ids up to `lastMutationId`: never reuse them. */
  skipIdsUpTo(lastMutationId: number): void {
    this.#nextId = Math.max(this.#nextId, lastMutationId + 1);
  }

  /** Applies one op to the confirmed state; false on a gap. */
  applyOp(op: DocOp): boolean {
    const c = this.#confirmed;
    if (!c) return false;
    if (op.version <= c.version) return true;
    if (op.version !== c.version + 1) return false;
    this.#confirmed = { version: op.version, state: applyPatches(c.state, op.patches) };
    const own = op.clientId === this.#clientId && op.mutationId !== undefined;
    if (this.#observer) {
      const entry = own ? this.#pending.find((e) => e.id === op.mutationId) : undefined;
      this.#observer.op(op, c.state, this.#confirmed.state, entry);
    }
    if (own && op.mutationId !== undefined) {
      this.confirmUpTo(op.mutationId, { version: op.version }, true);
    }
    return true;
  }

  /**
   * Drops pending entries with ids up to `id`: the server has them. With
   * `exact` (an own op), only `id` succeeded: earlier ones were rejected and
   * wait for their error reply.
   */
  confirmUpTo(id: number, result: DocMutateResult, exact = false): void {
    while (this.#pending.length > 0 && (this.#pending[0] as Entry).id <= id) {
      const e = this.#pending.shift() as Entry;
      if (exact && e.id !== id && e.waiters.length > 0 && e.sendSeq !== 0) {
        this.#orphans.set(e.id, e);
        continue;
      }
      for (const w of e.waiters.splice(0)) w.resolve(result);
    }
  }

  /** Drops entries acknowledged at a version the confirmed state has reached; true when some were. */
  dropAcked(): boolean {
    const v = this.#confirmed?.version ?? 0;
    const before = this.#pending.length;
    this.#pending = this.#pending.filter((e) => e.ackedVersion === undefined || e.ackedVersion > v);
    return this.#pending.length !== before;
  }

  /** Replays the pending mutations on the confirmed state. */
  rebase(): void {
    if (!this.#confirmed) return;
    this.#visible = replay(this.#mutators, this.#confirmed.state, this.#pending, (e) => this.#meta(e.id, e.ts));
  }

  /**
   * Runs a new mutation on the visible state and returns the result (new
   * state and patches), without queuing it; undefined while nothing is
   * confirmed (the visible state stays as is). Throws `mutation_failed` when
   * the mutator throws.
   */
  speculate(m: ResolvedMutator, name: string, runArgs: unknown, ts: number): MutationResult<unknown> | undefined {
    if (!this.#confirmed) return undefined;
    try {
      return runMutator(this.#visible, m.run, runArgs, this.#meta(this.#nextId, ts));
    } catch (err) {
      throw new SynclineError('mutation_failed', `Mutator "${name}" failed: ${toSynclineError(err).message}`, {
        cause: err,
      });
    }
  }

  /** Queues a new mutation under the next id and shows `visible` (from `speculate`). */
  enqueue(name: string, args: unknown, runArgs: unknown, ts: number, visible: unknown): Entry {
    const entry = makeEntry(this.#mutators, { id: this.#nextId++, name, args, ts }, false);
    entry.runArgs = runArgs;
    this.#pending.push(entry);
    this.#visible = visible;
    return entry;
  }

  /**
   * True when the server cannot have seen pending entry `e` (never sent, or
   * refused without using up its id).
   */
  isUnsent(e: Entry): boolean {
    return this.#pending.includes(e) && e.sendSeq === 0 && !e.maybeApplied && e.ackedVersion === undefined;
  }

  /**
   * Rewrites the args of the unsent pending mutations (`isUnsent`) that
   * `match`; the next `rebase` replays them with the new args.
   */
  reviseUnsent(match: (e: Entry) => boolean, revise: (args: unknown) => unknown): void {
    for (const e of this.#pending) {
      if (!match(e) || !this.isUnsent(e)) continue;
      e.args = revise(e.args);
      e.runArgs = e.args;
      e.persisted = false;
    }
  }

  /** True (once) when `e` was confirmed past by a later own op and its rejection is expected. */
  takeOrphan(e: Entry): boolean {
    if (this.#orphans.get(e.id) !== e) return false;
    this.#orphans.delete(e.id);
    return true;
  }

  /** Forgets `e` as an orphan (its success arrived). */
  forgetOrphan(e: Entry): void {
    this.#orphans.delete(e.id);
  }

  /**
   * Removes a rejected entry, or with `andLater` it and every later one (their
   * ids are reused). Returns the removed entries.
   */
  rollBack(e: Entry, andLater: boolean): Entry[] {
    const i = this.#pending.indexOf(e);
    if (i < 0) return [];
    const dropped = andLater ? this.#pending.splice(i) : this.#pending.splice(i, 1);
    if (andLater) this.#nextId = e.id;
    return dropped;
  }

  /**
   * The server does not know this client (`lastMutationId` 0) although it
   * handed out ids, and nothing is pending: its row was pruned while it was
   * away. Continue under a new id (nothing can be applied twice), so later
   * mutations are not refused as `client_expired`. True when it did.
   */
  renewIfForgotten(lastMutationId: number): boolean {
    if (lastMutationId !== 0 || this.#nextId === 1 || this.#pending.length > 0) return false;
    this.newIdentity();
    return true;
  }

  /**
   * The server forgot this client id (`client_expired`): removes and returns
   * the unacknowledged entries it may have applied (they must not be sent
   * again under any id) and continues under a new id with the others, which
   * it never applied.
   */
  expire(): Entry[] {
    const dropped = this.#pending.filter((p) => p.ackedVersion === undefined && p.maybeApplied);
    this.#pending = this.#pending.filter((p) => !dropped.includes(p));
    this.newIdentity();
    return dropped;
  }

  /**
   * Continues under a new client id, renumbering the unacknowledged entries
   * from 1 (the server lost track of this client: restored storage, or
   * `expire`). Acknowledged entries were applied under the old id: they are
   * dropped (the server's ops carry their effect), never sent again.
   */
  newIdentity(): void {
    this.#clientId = randomId();
    this.#identitySince = Date.now();
    this.#pending = this.#pending.filter((p) => p.ackedVersion === undefined);
    let id = 1;
    for (const p of this.#pending) {
      p.id = id++;
      p.persisted = false;
      p.sendSeq = 0;
      p.maybeApplied = false;
    }
    this.#nextId = id;
  }

  #meta(id: number, ts: number): MutationMeta {
    return {
      doc: this.#doc,
      clientId: this.#clientId,
      mutationId: id,
      userId: this.#userId(),
      timestamp: ts,
      location: 'client',
    };
  }
}
