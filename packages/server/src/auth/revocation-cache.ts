import { SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { RevocationStore } from './revocations.js';
import type { Principal } from './token-verifier.js';

/**
 * A node's in-memory view of the revocations in force, so the check on every
 * connect and refresh costs a map lookup. Changes made on this node and
 * received from other nodes apply at once; a periodic re-read of the store
 * (when it has `refreshMs`) catches up with changes the node missed. A token
 * without `iat` counts as issued at time 0, so any revocation refuses it.
 */
export class RevocationCache {
  readonly #store: RevocationStore;
  readonly #logger: Logger;
  readonly #before = new Map<string, number>();
  /** Users changed since a given tick, so a re-read that started earlier does not undo the change. */
  readonly #touched = new Map<string, number>();
  #tick = 0;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(store: RevocationStore, logger: Logger, initial?: ReadonlyMap<string, number>) {
    this.#store = store;
    this.#logger = logger;
    if (initial) for (const [u, b] of initial) this.#before.set(u, b);
  }

  /** The durable store behind the cache. */
  get store(): RevocationStore {
    return this.#store;
  }

  /** Loads the store and starts the periodic re-read; rejects when the store cannot be read. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.#store.refreshMs;
    if (every !== undefined && this.#timer === undefined) {
      this.#timer = setInterval(() => {
        this.refresh().catch((err: unknown) => this.#logger.warn({ err }, 'revocations could not be re-read'));
      }, every);
      this.#timer.unref();
    }
  }

  /** Re-reads the store, keeping changes applied while the read was under way. */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      const started = ++this.#tick;
      try {
        const all = await this.#store.all(this.#before);
        for (const user of [...this.#before.keys()]) {
          if (!all.has(user) && !this.#changedSince(user, started)) this.#before.delete(user);
        }
        for (const [user, before] of all) {
          if (!this.#changedSince(user, started)) this.#before.set(user, before);
        }
        for (const [user, at] of this.#touched) if (at <= started) this.#touched.delete(user);
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  #changedSince(user: string, tick: number): boolean {
    return (this.#touched.get(user) ?? 0) >= tick;
  }

  /**
   * Applies a revocation locally (never moving one back); returns the time in
   * force on this node. Unless `stored`, re-reads of the store leave the user
   * alone until `settled(user)` (the write to the store is under way).
   */
  apply(user: string, before: number, stored = false): number {
    const at = Math.max(before, this.#before.get(user) ?? 0);
    this.#before.set(user, at);
    this.#touched.set(user, stored ? this.#tick : Number.POSITIVE_INFINITY);
    return at;
  }

  /** Removes a user's revocation locally (see `apply` for `stored`); returns whether there was one. */
  remove(user: string, stored = false): boolean {
    this.#touched.set(user, stored ? this.#tick : Number.POSITIVE_INFINITY);
    return this.#before.delete(user);
  }

  /** The store write of a change to `user` finished (or failed): re-reads may reconcile it again. */
  settled(user: string): void {
    this.#touched.set(user, this.#tick);
  }

  /** The revocation time of a user, if any. */
  revokedBefore(user: string): number | undefined {
    return this.#before.get(user);
  }

  /** True when the principal's token was issued before the user's revocation time. */
  isRevoked(principal: Principal): boolean {
    const before = this.#before.get(principal.user);
    return before !== undefined && principal.issuedAt < before;
  }

  /** Throws `revoked` when the principal's token is refused. */
  check(principal: Principal): void {
    if (this.isRevoked(principal)) {
      throw new SynclineError('revoked', 'Access was revoked; a token issued after the revocation is required.', {
        details: { revokedBefore: this.#before.get(principal.user) },
      });
    }
  }

  /** Number of users with a revocation. */
  get size(): number {
    return this.#before.size;
  }

  /** Stops the re-read and closes the store. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#refreshing?.catch(() => undefined);
    await this.#store.close();
  }
}
