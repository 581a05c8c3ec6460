import {
  type CommandInput,
  type DocMutateResult,
  type RequestType,
  type ResultOf,
  SynclineError,
} from '@syncline/protocol';
import type { RequestOptions } from '../request-manager.js';
import type { Entry } from './pending-entry.js';
import type { ReplicaModel } from './replica-model.js';

/** Longest wait between two attempts, before jitter. */
const MAX_RETRY_DELAY_MS = 5_000;

/** First wait after a failure; doubles per attempt. */
const FIRST_RETRY_DELAY_MS = 100;

/** What the sender needs from its replica. */
export interface SenderHost {
  readonly doc: string;
  readonly model: ReplicaModel;
  /** Version of the mutator set, sent with every mutation (when it has one). */
  readonly mutatorVersion: number | undefined;
  /** True while mutations may go out: subscribed, connected and not closed. */
  readonly canSend: boolean;
  readonly closed: boolean;
  /** False holds `e` and every later entry back for now (an undo waiting for what it reverts). */
  ready(e: Entry): boolean;
  request<K extends RequestType>(command: CommandInput<K>, options: RequestOptions): Promise<ResultOf<K>>;
  persist(): void;
  emitChange(): void;
  emitError(err: SynclineError): void;
}

/**
 * Sends a replica's persisted pending mutations in id order and handles the
 * verdicts: an ack confirms (and resolves the caller), a temporary failure
 * retries with backoff, `mutation_out_of_order` resyncs the numbering,
 * `client_expired` rolls back what may have been applied and takes a new
 * client id for the rest, and a permanent failure rolls the mutation back
 * (with `forbidden` or `client_outdated`, every later one too). Each attempt has a sequence
 * number; the verdict of a superseded attempt is ignored.
 */
export class MutationSender {
  readonly #host: SenderHost;
  #sendSeq = 0;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: SenderHost) {
    this.#host = host;
  }

  /** Sends every persisted entry not yet in flight, unless a retry is planned. */
  flush(): void {
    if (this.#retryTimer || !this.#host.canSend) return;
    for (const e of this.#host.model.pending) {
      if (!e.persisted) break;
      if (e.sendSeq === 0 && e.ackedVersion === undefined) {
        if (!this.#host.ready(e)) break;
        this.#send(e);
      }
    }
  }

  /** Marks every entry as not in flight (the connection or the subscription ended); their verdicts are lost. */
  markAllUnsent(): void {
    for (const p of this.#host.model.pending) {
      if (p.sendSeq !== 0) p.maybeApplied = true;
      p.sendSeq = 0;
    }
  }

  /** Starts the backoff over (subscribed again). */
  resetBackoff(): void {
    this.#attempt = 0;
  }

  /** Runs `fn` after the backoff delay (at most one retry is planned); nothing is in flight meanwhile. */
  retryLater(fn: () => void): void {
    this.markAllUnsent();
    if (this.#retryTimer) return;
    const delay = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** this.#attempt) * (0.5 + Math.random() / 2);
    this.#attempt++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      fn();
    }, delay);
  }

  /** Cancels a planned retry. */
  stop(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
  }

  #send(e: Entry): void {
    const seq = ++this.#sendSeq;
    e.sendSeq = seq;
    const { model, mutatorVersion } = this.#host;
    const cmd: CommandInput<'doc.mutate'> = {
      type: 'doc.mutate',
      doc: this.#host.doc,
      clientId: model.clientId,
      mutationId: e.id,
      name: e.name,
      args: e.args ?? null,
      ...(mutatorVersion === undefined ? {} : { mutatorVersion }),
      // A first mutation says how old it is: the server tells a new client from a forgotten one by it.
      ...(e.id === 1 ? { ageMs: model.ageMs(e, Date.now()) } : {}),
    };
    this.#host.request(cmd, { timeoutMs: 0 }).then(
      (r) => this.#onAck(e, seq, r),
      (err: SynclineError) => this.#onNack(e, seq, err),
    );
  }

  #onAck(e: Entry, seq: number, r: DocMutateResult): void {
    if (e.sendSeq !== seq) return;
    const model = this.#host.model;
    e.sendSeq = 0;
    model.forgetOrphan(e);
    this.#attempt = 0;
    e.ackedVersion = r.version;
    for (const w of e.waiters.splice(0)) w.resolve(r);
    if (model.pending.includes(e) && (model.confirmed?.version ?? 0) >= r.version) {
      if (model.dropAcked()) this.#host.persist();
      model.rebase();
      this.#host.emitChange();
    }
  }

  #onNack(e: Entry, seq: number, err: SynclineError): void {
    if (e.sendSeq !== seq) return;
    const model = this.#host.model;
    e.sendSeq = 0;
    if (model.takeOrphan(e)) {
      const lost = err.code === 'connection_lost' || err.code === 'client_closed';
      const why = lost
        ? new SynclineError('mutation_failed', 'The server rejected this mutation; its reply was lost.')
        : err;
      for (const w of e.waiters.splice(0)) w.reject(why);
      return;
    }
    if (!model.pending.includes(e) || this.#host.closed) return;
    if (err.code === 'connection_lost' || err.code === 'client_closed') {
      e.maybeApplied = true;
      return;
    }
    if (err.code === 'client_expired') {
      this.#expire(err);
      return;
    }
    if (err.code === 'mutation_out_of_order') {
      const expected = err.details?.expected;
      const lowest = model.pending.find((p) => p.ackedVersion === undefined)?.id ?? e.id;
      if (typeof expected === 'number' && expected < lowest) {
        model.newIdentity();
        this.#host.persist();
      } else this.retryLater(() => this.flush());
      return;
    }
    if (err.group === 'retry' || err.code === 'token_expired' || err.code === 'unauthorized') {
      this.retryLater(() => this.flush());
      return;
    }
    // Permanent: roll back (with `forbidden` or `client_outdated`, every later mutation would fail too;
    // neither uses up the id).
    const all = err.code === 'forbidden' || err.code === 'client_outdated';
    for (const d of model.rollBack(e, all)) {
      if (d.waiters.length === 0) this.#host.emitError(err);
      for (const w of d.waiters.splice(0)) w.reject(err);
    }
    model.rebase();
    this.#host.persist();
    this.#host.emitChange();
  }

  /**
   * The server forgot this client id (its row was pruned). A pending
   * mutation that went out before without a verdict may have been applied
   * under it: it is rolled back with the error, never sent again. The others
   * were never applied: they continue under a new client id.
   */
  #expire(err: SynclineError): void {
    const model = this.#host.model;
    const dropped = model.expire();
    for (const d of dropped) {
      if (d.waiters.length === 0) this.#host.emitError(err);
      for (const w of d.waiters.splice(0)) w.reject(err);
    }
    model.rebase();
    this.#host.persist();
    this.#host.emitChange();
  }
}
