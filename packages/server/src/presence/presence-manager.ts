import { type PresenceEntry, SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { Session } from '../session/session.js';
import { type PresenceEnterLimits, presenceLimitExceeded } from './presence-limits.js';
import type { PresenceChange, PresenceFanout, PresenceOwner, PresenceStore } from './presence-store.js';
import { PresenceWatchers } from './presence-watchers.js';
import { entryKey, existingSessionPresence, sessionPresence } from './session-presence.js';

/** Timing options of presence. */
export interface PresenceTiming {
  /** How long an abruptly disconnected connection's entries stay before `leave` (ms). */
  readonly graceMs: number;
  /** Shortest interval between two `update` diffs of one entry; updates in between are coalesced latest-wins (ms). */
  readonly updateIntervalMs: number;
}

/** This node's bookkeeping of one entry it owns. */
interface LocalEntry {
  readonly channel: string;
  readonly user: string;
  readonly clientId: string;
  readonly key: string;
  session: Session;
  info: unknown;
  lastWriteAt: number;
  lastStateJson: string;
  pending: { state: unknown } | undefined;
  timer: NodeJS.Timeout | undefined;
  graceTimer: NodeJS.Timeout | undefined;
}

/** What `PresenceManager.enter` enforces besides the store's limits. */
export interface PresenceEntryLimits extends PresenceEnterLimits {
  /** Most channels one connection may be present in. */
  readonly maxChannels: number;
}

/** Key of one session's slot in a channel: its enters and leaves there run one after the other. */
function slotKey(session: Session, channel: string): string {
  return `slot\u0000${session.id}\u0000${channel}`;
}

/**
 * Owns this node's presence entries and watchers: keeps one entry per
 * session and channel (a new `clientId` replaces the session's previous
 * entry there), serialises the store calls of each entry, coalesces updates,
 * runs grace periods, sends each watcher the set in parts paced against its
 * send queue, and fans changes out to the local watchers of a channel
 * through the `PresenceFanout` seam.
 */
export class PresenceManager {
  readonly #store: PresenceStore;
  readonly #fanout: PresenceFanout;
  readonly #timing: PresenceTiming;
  readonly #node: string;
  readonly #logger: Logger;
  readonly #entries = new Map<string, LocalEntry>();
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #watchers: PresenceWatchers;
  readonly #stopResync: (() => void) | undefined;
  #closed = false;
  /** Observers of every change this node makes (joins, updates, leaves, expiries), after the store made it. */
  readonly changes = new Set<(change: PresenceChange) => void>();

  constructor(store: PresenceStore, fanout: PresenceFanout, timing: PresenceTiming, node: string, logger: Logger) {
    this.#store = store;
    this.#fanout = fanout;
    this.#timing = timing;
    this.#node = node;
    this.#logger = logger;
    this.#watchers = new PresenceWatchers(store, fanout, logger);
    this.#stopResync = fanout.onResync?.(() => this.resync());
  }

  /** The store (for reads by the HTTP API). */
  get store(): PresenceStore {
    return this.#store;
  }

  /** Runs store calls of one entry one after the other. */
  #serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#chains.set(key, tail);
    void tail.then(() => {
      if (this.#chains.get(key) === tail) this.#chains.delete(key);
    });
    return next;
  }

  #owner(session: Session): PresenceOwner {
    return { node: this.#node, session: session.id };
  }

  #publish(change: PresenceChange | undefined): void {
    if (!change || this.#closed) return;
    this.#fanout.publish(change);
    for (const listener of this.changes) {
      try {
        listener(change);
      } catch (err) {
        this.#logger.warn({ err, channel: change.channel }, 'presence change listener failed');
      }
    }
  }

  /**
   * Enters (or takes over) an entry for `session`; resolves with the
   * channel's seq. The session's earlier entry in the channel under another
   * `clientId` leaves first (watchers see its `leave`, then the `join`).
   * Throws `limit_exceeded` past `limits` (then nothing changed, except that
   * the replaced entry has left).
   */
  enter(
    session: Session,
    channel: string,
    clientId: string,
    state: unknown,
    limits: PresenceEntryLimits,
  ): Promise<number> {
    return this.#serial(slotKey(session, channel), async () => {
      const sp = sessionPresence(session);
      const prior = sp.entries.get(channel);
      if (prior === undefined && sp.entries.size >= limits.maxChannels) {
        throw presenceLimitExceeded('maxChannelsPerConnection', limits.maxChannels);
      }
      if (session.closed) throw new SynclineError('connection_lost', 'The connection closed.');
      sp.entries.set(channel, clientId);
      if (prior !== undefined && prior !== clientId) {
        const old = this.#entries.get(entryKey(channel, session.user, prior));
        if (old && old.session === session) await this.#remove(old);
        if (session.closed) throw new SynclineError('connection_lost', 'The connection closed.');
      }
      return this.#enterEntry(session, channel, clientId, state, limits);
    });
  }

  async #enterEntry(
    session: Session,
    channel: string,
    clientId: string,
    state: unknown,
    limits: PresenceEnterLimits,
  ): Promise<number> {
    const user = session.user;
    const key = entryKey(channel, user, clientId);
    const info = session.principal?.info;
    let local = this.#entries.get(key);
    const created = !local;
    if (local) {
      this.#cancelTimers(local);
      local.session = session;
      local.info = info;
    } else {
      local = {
        channel,
        user,
        clientId,
        key,
        session,
        info,
        lastWriteAt: 0,
        lastStateJson: '',
        pending: undefined,
        timer: undefined,
        graceTimer: undefined,
      };
      this.#entries.set(key, local);
    }
    const owned = local;
    const stateJson = JSON.stringify([state, info ?? null]);
    owned.lastWriteAt = Date.now();
    try {
      return await this.#serial(key, async () => {
        const now = Date.now();
        const entry: PresenceEntry =
          info === undefined
            ? { user, clientId, state, enteredAt: now, updatedAt: now }
            : { user, clientId, state, info, enteredAt: now, updatedAt: now };
        const change = await this.#store.enter(channel, entry, this.#owner(session), limits);
        const unchanged = change.action === 'update' && owned.lastStateJson === stateJson;
        owned.lastStateJson = stateJson;
        if (!unchanged) this.#publish(change);
        return change.seq;
      });
    } catch (err) {
      // The store changed nothing: this node forgets the entry it just set up.
      const refused = err instanceof SynclineError && err.code === 'limit_exceeded';
      if ((created || refused) && this.#entries.get(key) === owned && owned.session === session) {
        this.#cancelTimers(owned);
        this.#entries.delete(key);
        const sp = sessionPresence(session);
        if (sp.entries.get(channel) === clientId) sp.entries.delete(channel);
      }
      throw err;
    }
  }

  /** True when `session` currently owns the entry. */
  owns(session: Session, channel: string, clientId: string): boolean {
    return this.#entries.get(entryKey(channel, session.user, clientId))?.session === session;
  }

  /** Updates an owned entry's state, coalescing latest-wins within `updateIntervalMs`. */
  update(session: Session, channel: string, clientId: string, state: unknown): void {
    const local = this.#entries.get(entryKey(channel, session.user, clientId));
    if (!local || local.session !== session) return;
    const now = Date.now();
    const wait = local.lastWriteAt + this.#timing.updateIntervalMs - now;
    if (wait <= 0 && !local.timer) {
      this.#writeUpdate(local, state);
      return;
    }
    local.pending = { state };
    if (!local.timer) {
      local.timer = setTimeout(() => this.#flushPending(local), Math.max(0, wait));
      local.timer.unref();
    }
  }

  #flushPending(local: LocalEntry): void {
    local.timer = undefined;
    const p = local.pending;
    local.pending = undefined;
    if (p && this.#entries.get(local.key) === local) this.#writeUpdate(local, p.state);
  }

  #writeUpdate(local: LocalEntry, state: unknown): void {
    local.lastWriteAt = Date.now();
    const stateJson = JSON.stringify([state, local.info ?? null]);
    if (stateJson === local.lastStateJson) return;
    local.lastStateJson = stateJson;
    this.#serial(local.key, async () => {
      const change = await this.#store.update(local.channel, local.user, local.clientId, state, Date.now());
      this.#publish(change);
    }).catch((err: unknown) => this.#logger.warn({ err, channel: local.channel }, 'presence update failed'));
  }

  /** Leaves an entry now, if `session` owns it (after the session's enters in the channel sent before). */
  leave(session: Session, channel: string, clientId: string): Promise<void> {
    return this.#serial(slotKey(session, channel), async () => {
      const sp = sessionPresence(session);
      if (sp.entries.get(channel) === clientId) sp.entries.delete(channel);
      const local = this.#entries.get(entryKey(channel, session.user, clientId));
      if (local && local.session === session) await this.#remove(local);
    });
  }

  #remove(local: LocalEntry): Promise<void> {
    this.#cancelTimers(local);
    if (this.#entries.get(local.key) === local) this.#entries.delete(local.key);
    const owner = this.#owner(local.session);
    return this.#serial(local.key, async () => {
      this.#publish(await this.#store.leave(local.channel, local.user, local.clientId, owner));
    });
  }

  #cancelTimers(local: LocalEntry): void {
    if (local.timer) clearTimeout(local.timer);
    if (local.graceTimer) clearTimeout(local.graceTimer);
    local.timer = local.graceTimer = undefined;
    local.pending = undefined;
  }

  /**
   * The session is gone: its watches end; its entries leave now when
   * `immediate`, else after the grace period unless a reconnect took them over.
   */
  sessionClosed(session: Session, immediate: boolean): void {
    const sp = existingSessionPresence(session);
    if (!sp) return;
    for (const channel of sp.watching) this.unwatch(session, channel);
    for (const [channel, clientId] of sp.entries) {
      const key = entryKey(channel, session.user, clientId);
      const local = this.#entries.get(key);
      if (!local || local.session !== session) continue;
      if (immediate || this.#timing.graceMs <= 0) {
        this.#remove(local).catch((err: unknown) => this.#logger.warn({ err }, 'presence leave failed'));
        continue;
      }
      if (local.timer) clearTimeout(local.timer);
      local.timer = undefined;
      local.pending = undefined;
      local.graceTimer = setTimeout(() => {
        local.graceTimer = undefined;
        if (local.session === session && this.#entries.get(key) === local) {
          this.#remove(local).catch((err: unknown) => this.#logger.warn({ err }, 'presence leave failed'));
        }
      }, this.#timing.graceMs);
      local.graceTimer.unref();
    }
    sp.entries.clear();
  }

  /** Starts pushing a channel's presence to `session`: `presence.state` (in parts when large), then diffs. */
  watch(session: Session, channel: string): Promise<void> {
    return this.#watchers.watch(session, channel);
  }

  /** Stops pushing a channel's presence to `session`. */
  unwatch(session: Session, channel: string): void {
    this.#watchers.unwatch(session, channel);
  }

  /** Re-sends every local watcher a fresh list (see `PresenceWatchers.resync`). */
  resync(): void {
    if (!this.#closed) this.#watchers.resync();
  }

  /** Heartbeats this node and removes the entries of dead nodes. */
  async tick(now: number, nodeTtlMs: number): Promise<void> {
    await this.#store.heartbeat(this.#node, now);
    for (const change of await this.#store.expire(now, nodeTtlMs)) this.#publish(change);
  }

  /** Stops timers and releases the store. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopResync?.();
    for (const local of this.#entries.values()) this.#cancelTimers(local);
    this.#entries.clear();
    this.#watchers.clear();
    await this.#store.close();
  }
}
