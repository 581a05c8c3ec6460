import {
  type CommandInput,
  type DocOp,
  type DocServerMessage,
  type DocSubscribeResult,
  SynclineError,
} from '@syncline/protocol';
import type { DocHost } from './doc-host.js';
import type { ReplicaModel } from './replica-model.js';
import { SnapshotChunks } from './snapshot-chunks.js';

/** What a subscription needs of its replica. */
export interface SubscriptionHost {
  readonly client: DocHost;
  readonly model: ReplicaModel;
  /** True once the store was read (subscribing waits for it). */
  readonly loaded: boolean;
  readonly closed: boolean;
  /** Writes the replica to its store. */
  persist(): void;
  /** The subscription is live: send pending mutations. */
  flushMutations(): void;
  /** The server answered: reset the send backoff. */
  resetBackoff(): void;
  /** Runs `fn` later with backoff (a temporary subscribe failure). */
  retryLater(fn: () => void): void;
  /** A state is known: resolve `ready`. */
  markReady(): void;
  emitChange(): void;
  emitError(err: SynclineError): void;
}

/**
 * The subscribe protocol of one replica: subscribe on every connect with the
 * version it has, take the reply (ops, snapshot, or a snapshot in chunks),
 * apply pushed ops in order, and resync (unsubscribe, subscribe again) after
 * a gap. Patches that arrive while a subscribe is in flight are kept and
 * applied on top of its reply.
 */
export class DocSubscription {
  readonly #name: string;
  readonly #host: SubscriptionHost;
  #subscribed = false;
  #subscribing = false;
  /** Patches that arrived while a subscribe was in flight (its reply may be handled after them). */
  #early: DocOp[] = [];
  /** Pieces of a snapshot sent in chunks, and the reply that announced them. */
  readonly #chunks = new SnapshotChunks();
  #chunked: DocSubscribeResult | undefined;

  constructor(name: string, host: SubscriptionHost) {
    this.#name = name;
    this.#host = host;
  }

  /** True while subscribed on the current connection. */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  /** The connection dropped: the next connect subscribes again. */
  disconnected(): void {
    this.#subscribed = false;
    this.#early = [];
    if (this.#chunked) this.#subscribing = false;
    this.#chunked = undefined;
    this.#chunks.reset();
  }

  /** The replica closed: unsubscribes when it can. */
  close(): void {
    const client = this.#host.client;
    if (this.#subscribed && client.state === 'connected') {
      client.request({ type: 'doc.unsubscribe', doc: this.#name }).catch(() => undefined);
    }
    this.#subscribed = false;
  }

  /** Subscribes unless already subscribed or subscribing (or not connected, loaded or open). */
  subscribe(): void {
    const host = this.#host;
    const client = host.client;
    if (!host.loaded || host.closed || this.#subscribing || this.#subscribed) return;
    if (client.state !== 'connected') return;
    this.#subscribing = true;
    const cmd: CommandInput<'doc.subscribe'> = {
      type: 'doc.subscribe',
      doc: this.#name,
      clientId: host.model.clientId,
      chunks: true,
    };
    const confirmed = host.model.confirmed;
    if (confirmed) cmd.version = confirmed.version;
    this.#chunks.reset();
    client.request(cmd, { timeoutMs: 0 }).then(
      (result) => {
        if (host.closed || client.state !== 'connected') {
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
        if (host.closed || err.code === 'connection_lost' || err.code === 'client_closed') return;
        if (err.code === 'already_subscribed') {
          // A previous subscribe on this connection is still active: resync it.
          this.#resync();
          return;
        }
        host.emitError(err);
        if (err.group === 'retry') host.retryLater(() => this.subscribe());
      },
    );
  }

  /** Handles a server message about the document; true when it took it. */
  onMessage(msg: DocServerMessage): boolean {
    const host = this.#host;
    const model = host.model;
    if (host.closed || msg.doc !== this.#name) return false;
    if (msg.type === 'doc.patch') {
      const confirmed = model.confirmed;
      if (!this.#subscribed) {
        if (this.#subscribing) this.#early.push(msg);
        return true;
      }
      if (!confirmed) return true;
      const before = confirmed.version;
      if (!model.applyOp(msg)) {
        this.#resync();
        return true;
      }
      if (model.confirmed?.version === before) return true;
      this.#dropAcked();
      model.rebase();
      host.persist();
      host.emitChange();
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
      host.emitError(new SynclineError(msg.code, msg.message));
      host.emitChange();
      return true;
    }
    return false;
  }

  #onSubscribed(r: DocSubscribeResult): void {
    const host = this.#host;
    const model = host.model;
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
    host.resetBackoff();
    model.rebase();
    host.markReady();
    host.persist();
    host.emitChange();
    host.flushMutations();
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
      this.subscribe();
    };
    this.#host.client.request({ type: 'doc.unsubscribe', doc: this.#name }).then(again, again);
  }

  #dropAcked(): void {
    if (this.#host.model.dropAcked()) this.#host.persist();
  }
}
