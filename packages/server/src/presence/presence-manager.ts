import { type PresenceEntry, SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { Session } from '../session/session.js';
import type {
  PresenceChange,
  PresenceFanout,
  PresenceOwner,
  PresenceSnapshot,
  PresenceStore,
} from './presence-store.js';

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

/** Per-session presence state (kept in `session.ext`). */
export interface SessionPresence {
  /** Entries this session entered, by entry key. */
  readonly entries: Map<string, { readonly channel: string; readonly clientId: string }>;
  /** Channels whose presence this session watches. */
  readonly watching: Set<string>;
}

const EXT_KEY = 'presence';

/** The presence state of a session, created on first use. */
export function sessionPresence(session: Session): SessionPresence {
  let sp = session.ext.get(EXT_KEY) as SessionPresence | undefined;
  if (!sp) {
    sp = { entries: new Map(), watching: new Set() };
    session.ext.set(EXT_KEY, sp);
  }
  return sp;
}

/** Key of an entry on this node. */
export function entryKey(channel: string, user: string, clientId: string): string {
  return `${channel}\u0000${user}\u0000${clientId}`;
}

/**
 * Owns this node's presence entries and watchers: serialises the store calls
 * of each entry, coalesces updates, runs grace periods, and fans changes out
 * to the local watchers of a channel through the `PresenceFanout` seam.
 */
export class PresenceManager {
  readonly #store: PresenceStore;
  readonly #fanout: PresenceFanout;
  readonly #timing: PresenceTiming;
  readonly #node: string;
  readonly #logger: Logger;
  readonly #entries = new Map<string, LocalEntry>();
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #watchers = new Map<string, Set<Session>>();
  readonly #ready = new Map<string, Promise<void>>();
  /** Channels whose list is being re-read after a resync: changes wait here until the fresh list is sent. */
  readonly #resyncing = new Map<string, PresenceChange[]>();
  /** Channels to re-read once more (a resync arrived while one was running). */
  readonly #resyncAgain = new Set<string>();
  readonly #stopResync: (() => void) | undefined;
  #closed = false;

  constructor(store: PresenceStore, fanout: PresenceFanout, timing: PresenceTiming, node: string, logger: Logger) {
    this.#store = store;
    this.#fanout = fanout;
    this.#timing = timing;
    this.#node = node;
    this.#logger = logger;
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
    if (change && !this.#closed) this.#fanout.publish(change);
  }

  /** Enters (or takes over) an entry for `session`; resolves with the channel's seq. */
  async enter(session: Session, channel: string, clientId: string, state: unknown): Promise<number> {
    const user = session.user;
    const key = entryKey(channel, user, clientId);
    const info = session.principal?.info;
    let local = this.#entries.get(key);
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
    sessionPresence(session).entries.set(key, { channel, clientId });
    const owned = local;
    const stateJson = JSON.stringify([state, info ?? null]);
    owned.lastWriteAt = Date.now();
    return this.#serial(key, async () => {
      const now = Date.now();
      const entry: PresenceEntry =
        info === undefined
          ? { user, clientId, state, enteredAt: now, updatedAt: now }
          : { user, clientId, state, info, enteredAt: now, updatedAt: now };
      const change = await this.#store.enter(channel, entry, this.#owner(session));
      const unchanged = change.action === 'update' && owned.lastStateJson === stateJson;
      owned.lastStateJson = stateJson;
      if (!unchanged) this.#publish(change);
      return change.seq;
    });
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

  /** Leaves an entry now, if `session` owns it. */
  leave(session: Session, channel: string, clientId: string): Promise<void> {
    const key = entryKey(channel, session.user, clientId);
    sessionPresence(session).entries.delete(key);
    const local = this.#entries.get(key);
    if (!local || local.session !== session) return Promise.resolve();
    return this.#remove(local);
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
    const sp = session.ext.get(EXT_KEY) as SessionPresence | undefined;
    if (!sp) return;
    for (const channel of sp.watching) this.unwatch(session, channel);
    for (const key of sp.entries.keys()) {
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

  /** Starts pushing a channel's presence to `session`: `presence.state`, then diffs. */
  async watch(session: Session, channel: string): Promise<void> {
    const sp = sessionPresence(session);
    sp.watching.add(channel);
    let set = this.#watchers.get(channel);
    if (!set) {
      set = new Set();
      this.#watchers.set(channel, set);
      const ready = this.#fanout.subscribe(channel, (change) => this.#deliver(change));
      this.#ready.set(channel, ready);
      ready.catch(() => undefined);
    }
    set.add(session);
    // Every watcher waits until the node receives the channel's changes, so
    // no change falls between the list and the first diff.
    let snapshot: PresenceSnapshot;
    try {
      await this.#ready.get(channel);
      snapshot = await this.#store.list(channel);
    } catch (err) {
      this.unwatch(session, channel);
      throw new SynclineError('unavailable', 'Presence is unavailable right now; retry.', { cause: err });
    }
    if (session.closed || !sp.watching.has(channel)) return;
    session.send({ type: 'presence.state', channel, seq: snapshot.seq, entries: snapshot.entries });
  }

  /** Stops pushing a channel's presence to `session`. */
  unwatch(session: Session, channel: string): void {
    const sp = session.ext.get(EXT_KEY) as SessionPresence | undefined;
    sp?.watching.delete(channel);
    const set = this.#watchers.get(channel);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) {
      this.#watchers.delete(channel);
      this.#ready.delete(channel);
      this.#fanout.unsubscribe(channel).catch((err: unknown) => this.#logger.warn({ err }, 'presence unsubscribe'));
    }
  }

  /**
   * Changes may have been lost on the way to this node (the fanout says so):
   * re-reads the list of every channel with local watchers and sends each
   * watcher a fresh `presence.state`, followed by the changes newer than it.
   */
  resync(): void {
    if (this.#closed) return;
    for (const channel of this.#watchers.keys()) {
      this.#resyncChannel(channel).catch((err: unknown) => this.#logger.warn({ err, channel }, 'presence resync'));
    }
  }

  async #resyncChannel(channel: string, attempt = 0): Promise<void> {
    if (this.#resyncing.has(channel)) {
      this.#resyncAgain.add(channel);
      return;
    }
    const held: PresenceChange[] = [];
    this.#resyncing.set(channel, held);
    let snapshot: PresenceSnapshot | undefined;
    try {
      snapshot = await this.#store.list(channel);
    } catch (err) {
      // The store is not reachable (yet): retry with backoff while the channel is watched.
      this.#logger.warn({ err, channel, attempt }, 'presence resync: list failed');
    } finally {
      this.#resyncing.delete(channel);
    }
    const set = this.#watchers.get(channel);
    if (snapshot && set && !this.#closed) {
      const msg = { type: 'presence.state', channel, seq: snapshot.seq, entries: snapshot.entries };
      for (const s of set) s.send(msg);
    }
    // Changes that came in while the list was read, in order; those the list holds are skipped.
    for (const change of held) if (!snapshot || change.seq > snapshot.seq) this.#deliver(change);
    if (this.#resyncAgain.delete(channel)) {
      await this.#resyncChannel(channel);
    } else if (!snapshot && !this.#closed && this.#watchers.has(channel)) {
      const retry = setTimeout(
        () => {
          if (this.#closed || !this.#watchers.has(channel)) return;
          this.#resyncChannel(channel, attempt + 1).catch((err: unknown) =>
            this.#logger.warn({ err, channel }, 'presence resync'),
          );
        },
        Math.min(100 * 2 ** Math.min(attempt, 5), 2_000),
      );
      retry.unref();
    }
  }

  #deliver(change: PresenceChange): void {
    const held = this.#resyncing.get(change.channel);
    if (held) {
      held.push(change);
      return;
    }
    const set = this.#watchers.get(change.channel);
    if (!set || set.size === 0) return;
    const frame = JSON.stringify({
      type: 'presence.diff',
      channel: change.channel,
      seq: change.seq,
      action: change.action,
      entry: change.entry,
    });
    for (const s of set) s.pushFrame(frame);
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
