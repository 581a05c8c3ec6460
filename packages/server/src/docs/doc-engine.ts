import {
  applyPatches,
  type DocMutateResult,
  type DocOp,
  type DocSubscribeResult,
  SynclineError,
} from '@syncline/protocol';
import type { Logger } from 'pino';
import { assertNotExpired, pruneClients } from './client-retention.js';
import type { DocFanout } from './doc-fanout.js';
import type { DocNamespaces } from './doc-namespaces.js';
import { publicOp } from './doc-rows.js';
import { type DocStore, DocVersionConflict, type StoredOp, storedCall } from './doc-store.js';
import { type LiveDoc, newLiveDoc, setState, sizeAfter, unavailable } from './live-doc.js';
import { migrateLoaded, storedSchemaVersion } from './migrations.js';
import type { MutatorGuard } from './mutator-guard.js';
import { type MutationCall, runMutation } from './run-mutation.js';

/** Most ops a catching-up subscriber is sent before a snapshot is cheaper. */
export const MAX_CATCH_UP_OPS = 5_000;

/** Attempts of one mutation when other nodes keep committing first (shared store). */
export const MAX_CONFLICT_RETRIES = 10;

/** One mutation to apply. */
export interface MutationInput extends MutationCall {
  /** How long ago the client made it (its clock); judges a first mutation after client pruning. */
  readonly ageMs?: number | undefined;
}

/**
 * The authoritative side of documents on one node: loads documents lazily,
 * applies mutations one at a time per document in arrival order, commits
 * them through the `DocStore`, publishes the patches, and unloads idle
 * documents.
 */
export class DocEngine {
  readonly #namespaces: DocNamespaces;
  readonly #store: DocStore;
  readonly #fanout: DocFanout;
  readonly #logger: Logger;
  readonly #hasSubscribers: (doc: string) => boolean;
  readonly #guard: MutatorGuard;
  readonly #docs = new Map<string, LiveDoc>();
  #closed = false;

  constructor(deps: {
    namespaces: DocNamespaces;
    store: DocStore;
    fanout: DocFanout;
    logger: Logger;
    hasSubscribers: (doc: string) => boolean;
    /** Runs mutators under the server's time budget. */
    guard: MutatorGuard;
  }) {
    this.#namespaces = deps.namespaces;
    this.#store = deps.store;
    this.#fanout = deps.fanout;
    this.#logger = deps.logger;
    this.#hasSubscribers = deps.hasSubscribers;
    this.#guard = deps.guard;
  }

  /** Documents in memory. */
  get loadedCount(): number {
    return this.#docs.size;
  }

  /** True when the document is in memory. */
  isLoaded(doc: string): boolean {
    return this.#docs.get(doc)?.loaded ?? false;
  }

  /** Current version and state, with the schema version of the state (the namespace's: loading migrates to it). */
  get(doc: string): Promise<{ version: number; state: unknown; schemaVersion: number }> {
    return this.#enqueue(doc, async (live) => ({
      version: live.version,
      state: live.state,
      schemaVersion: live.ns.versions.schemaVersion,
    }));
  }

  /**
   * Subscribes: computes the reply (ops since `version` or a snapshot) and
   * calls `attach` with it (and the current state with its JSON size) inside
   * the document's queue, so that every later op is published after it.
   */
  subscribe(
    doc: string,
    options: { version?: number | undefined; clientId?: string | undefined },
    attach: (result: DocSubscribeResult, current: { readonly state: unknown; readonly bytes: number }) => void,
  ): Promise<void> {
    return this.#enqueue(doc, async (live) => {
      let ops: DocOp[] | undefined;
      const since = options.version;
      if (since !== undefined && since <= live.version) {
        if (since === live.version) ops = [];
        else {
          const read = await this.#store.opsSince(doc, since, MAX_CATCH_UP_OPS).catch((err) => {
            throw unavailable(err);
          });
          if (read !== 'too_old') ops = read.map(publicOp);
        }
      }
      const lastMutationId = options.clientId === undefined ? 0 : await this.#lastId(live, options.clientId);
      attach(
        ops === undefined
          ? { version: live.version, snapshot: live.state, lastMutationId }
          : { version: live.version, ops, lastMutationId },
        { state: live.state, bytes: live.bytes },
      );
    });
  }

  /**
   * Applies one mutation (exactly once per client id + mutation id).
   * `settle` runs inside the document's queue, before the next mutation
   * starts, so replies sent from it keep the server order on the wire.
   */
  mutate(
    doc: string,
    input: MutationInput,
    settle?: (result: DocMutateResult | undefined, error: unknown) => void,
  ): Promise<DocMutateResult> {
    return this.#enqueue(doc, async (live) => {
      let result: DocMutateResult;
      for (let attempt = 1; ; attempt++) {
        try {
          result = await this.#apply(live, input);
          break;
        } catch (err) {
          // Another node committed first (shared store): reload and run the mutation again.
          const conflict = err instanceof SynclineError && err.cause instanceof DocVersionConflict;
          if (conflict && attempt < MAX_CONFLICT_RETRIES) {
            try {
              await this.#load(live);
              continue;
            } catch (loadErr) {
              settle?.(undefined, loadErr);
              throw loadErr;
            }
          }
          settle?.(undefined, err);
          throw err;
        }
      }
      settle?.(result, undefined);
      return result;
    });
  }

  /**
   * Resolves once the work queued on the document so far is done (and its
   * replies sent): a reply sent then follows theirs on the wire.
   */
  afterQueued(doc: string): Promise<void> {
    const tail = this.#docs.get(doc)?.tail;
    return tail === undefined ? Promise.resolve() : tail.then(() => undefined);
  }

  /** Called when a document loses its last local subscriber. */
  maybeIdle(doc: string): void {
    const live = this.#docs.get(doc);
    if (live) this.#scheduleIdle(live);
  }

  /** Waits for queued work and drops every document from memory. */
  async close(): Promise<void> {
    this.#closed = true;
    const tails = [...this.#docs.values()].map((d) => d.tail);
    await Promise.allSettled(tails);
    for (const d of this.#docs.values()) if (d.idleTimer) clearTimeout(d.idleTimer);
    this.#docs.clear();
  }

  // ---------------------------------------------------------------------------

  #enqueue<T>(doc: string, fn: (live: LiveDoc) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new SynclineError('server_draining', 'The server is closing.'));
    let live = this.#docs.get(doc);
    if (!live) {
      live = newLiveDoc(doc, this.#namespaces.forDoc(doc));
      this.#docs.set(doc, live);
    }
    const d = live;
    d.jobs++;
    if (d.idleTimer) {
      clearTimeout(d.idleTimer);
      d.idleTimer = undefined;
    }
    const run = async (): Promise<T> => {
      try {
        if (!d.loaded) await this.#load(d);
        else if (this.#store.shared) await this.#catchUp(d);
        return await fn(d);
      } finally {
        d.jobs--;
        this.#scheduleIdle(d);
      }
    };
    const p = d.tail.then(run, run);
    d.tail = p.catch(() => undefined);
    return p;
  }

  async #load(live: LiveDoc): Promise<void> {
    let loaded: Awaited<ReturnType<DocStore['load']>>;
    try {
      loaded = await this.#store.load(live.name);
    } catch (err) {
      this.#logger.warn({ err, doc: live.name }, 'document load failed');
      throw unavailable(err);
    }
    let state = loaded.snapshot ? loaded.snapshot.state : live.ns.initialState(live.name);
    for (const op of loaded.ops) state = applyPatches(state, op.patches);
    let version = loaded.version;
    let snapshotVersion = loaded.snapshot?.version ?? 0;
    const schemaVersion = storedSchemaVersion(loaded);
    // Stored with an older schema: migrate, record the migration in the op log, tell subscribers.
    const migrated = await migrateLoaded(this.#store, live.name, live.ns.versions, {
      version,
      state,
      schemaVersion,
    }).catch((err: unknown) => {
      if (err instanceof SynclineError) throw err;
      this.#logger.error({ err, doc: live.name }, 'document migration failed');
      throw unavailable(err);
    });
    if (migrated) {
      this.#logger.info(
        { doc: live.name, from: schemaVersion, to: live.ns.versions.schemaVersion },
        'document migrated',
      );
      ({ state, version } = migrated);
      snapshotVersion = version;
      this.#fanout.publish(migrated.message);
    }
    setState(live, state);
    live.version = version;
    live.snapshotVersion = snapshotVersion;
    live.clients.clear();
    live.loaded = true;
  }

  /**
   * A store shared by several nodes may have moved on: apply the ops other
   * nodes committed since the memory copy's version, and forget cached client
   * ids (another node may have advanced them).
   */
  async #catchUp(live: LiveDoc): Promise<void> {
    let ops: StoredOp[] | 'too_old';
    try {
      ops = await this.#store.opsSince(live.name, live.version, MAX_CATCH_UP_OPS);
    } catch (err) {
      throw unavailable(err);
    }
    live.clients.clear();
    // A newer node migrated the document past this node's schema: reload (which refuses it).
    const newer = ops !== 'too_old' && ops.some((o) => (o.schemaVersion ?? 0) > live.ns.versions.schemaVersion);
    if (ops === 'too_old' || newer) {
      await this.#load(live);
      return;
    }
    if (ops.length === 0) return;
    let state = live.state;
    for (const op of ops) state = applyPatches(state, op.patches);
    setState(live, state);
    live.version = ops.at(-1)?.version ?? live.version;
  }

  async #lastId(live: LiveDoc, clientId: string): Promise<number> {
    const known = live.clients.get(clientId);
    if (known !== undefined) return known;
    let last: number;
    try {
      last = await this.#store.lastMutationId(live.name, clientId);
    } catch (err) {
      throw unavailable(err);
    }
    if (live.clients.size > 10_000) live.clients.clear();
    live.clients.set(clientId, last);
    return last;
  }

  async #apply(live: LiveDoc, input: MutationInput): Promise<DocMutateResult> {
    const { clientId, mutationId } = input;
    const tracked = clientId !== undefined && mutationId !== undefined;
    if (tracked) {
      const last = await this.#lastId(live, clientId);
      if (mutationId <= last) return { version: live.version, duplicate: true };
      if (last === 0) {
        const retention = live.ns.clientRetentionMs;
        await assertNotExpired(this.#store, live.name, { ...input, clientId, mutationId }, retention, Date.now());
      }
      if (mutationId > last + 1) {
        throw new SynclineError(
          'mutation_out_of_order',
          `Mutation ${mutationId} of client ${clientId} skips ahead; expected ${last + 1}.`,
          { details: { expected: last + 1, got: mutationId } },
        );
      }
    }
    input.beforeMutator?.();
    const ts = Date.now();
    const outcome = await runMutation(live.ns, live.name, live.state, input, ts, this.#guard);
    const size = outcome instanceof SynclineError ? outcome : sizeAfter(live, outcome);
    if (size instanceof SynclineError) {
      if (tracked) {
        try {
          await this.#store.advanceClient(live.name, clientId, mutationId);
        } catch (err) {
          throw unavailable(err);
        }
        live.clients.set(clientId, mutationId);
      }
      throw size;
    }
    if (outcome instanceof SynclineError) throw outcome;
    const version = live.version + 1;
    // The first version is always snapshotted: later loads (and schema migrations) never
    // replay old ops on a newer `initialState`.
    const snapshotDue = version === 1 || version - live.snapshotVersion >= live.ns.snapshotEvery;
    try {
      await this.#store.commit({
        doc: live.name,
        version,
        patches: outcome.patches,
        ts,
        ...(tracked ? { clientId, mutationId } : {}),
        ...(input.userId === undefined ? {} : { userId: input.userId }),
        call: storedCall(input.name, input.args),
        ...(snapshotDue ? { snapshot: outcome.state } : {}),
        schemaVersion: live.ns.versions.schemaVersion,
      });
    } catch (err) {
      // Another writer (or a failed write) makes the memory copy suspect: reload next time.
      if (err instanceof DocVersionConflict) live.loaded = false;
      this.#logger.warn({ err, doc: live.name }, 'document commit failed');
      throw unavailable(err);
    }
    live.version = version;
    live.state = outcome.state;
    live.bytes = size.bytes;
    live.slackBytes = size.slackBytes;
    if (tracked) live.clients.set(clientId, mutationId);
    if (snapshotDue) {
      live.snapshotVersion = version;
      const upTo = version - live.ns.opLogRetention;
      if (upTo > 0) {
        await this.#store.compact(live.name, upTo).catch((err: unknown) => {
          this.#logger.warn({ err, doc: live.name }, 'document compaction failed');
        });
      }
      const pruned = await pruneClients(this.#store, live.name, live.ns.clientRetentionMs, ts, (err) =>
        this.#logger.warn({ err, doc: live.name }, 'document client pruning failed'),
      );
      // Forget cached ids: a pruned client must be judged by the store (unknown, maybe expired).
      if (pruned > 0) live.clients.clear();
    }
    this.#fanout.publish({
      type: 'doc.patch',
      doc: live.name,
      version,
      patches: outcome.patches,
      ts,
      ...(tracked ? { clientId, mutationId } : {}),
    });
    return { version };
  }

  #scheduleIdle(live: LiveDoc): void {
    if (live.jobs > 0 || live.idleTimer || this.#closed || this.#hasSubscribers(live.name)) return;
    live.idleTimer = setTimeout(() => {
      live.idleTimer = undefined;
      if (live.jobs === 0 && !this.#hasSubscribers(live.name) && this.#docs.get(live.name) === live) {
        this.#docs.delete(live.name);
      }
    }, live.ns.idleUnloadMs);
    live.idleTimer.unref?.();
  }
}
