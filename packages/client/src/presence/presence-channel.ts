import {
  type CommandInput,
  type PresenceDiffMessage,
  type PresenceEndedMessage,
  type PresenceStateMessage,
  type RequestType,
  type ResultOf,
  SynclineError,
  toSynclineError,
} from '@syncline/protocol';
import { backoffDelay } from '../backoff.js';
import { Emitter } from '../emitter.js';
import { PresenceMembers } from './presence-members.js';

/** What a presence channel needs from its client. */
export interface PresenceHost {
  readonly connected: boolean;
  readonly clientId: string;
  request<K extends RequestType>(command: CommandInput<K>): Promise<ResultOf<K>>;
  /** Called when the channel is closed. */
  release(channel: string): void;
}

/** Events of a presence channel. */
export interface PresenceChannelEvents {
  /** A request failed, or the server ended the watch or this client's entry (`code` says why). */
  error: SynclineError;
  /** The server removed this client's entry or watch (refreshed token no longer allows it). */
  ended: { readonly what: 'subscription' | 'entry'; readonly code: string; readonly message: string };
}

/** Longest wait between two retries of a presence command refused for a temporary reason (broker down, rate limit). */
const PRESENCE_RETRY_MAX_MS = 10_000;

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: SynclineError) => void;
}

/**
 * Presence of one channel for one client: enter/update/leave this client's
 * entry, and `members` (the channel's set, one member per user). Both survive
 * reconnects: the entry is re-entered with its latest state under the same
 * client id (inside the server's grace period nobody sees a leave), and the
 * list is refetched and diffed against the previous one.
 */
export class PresenceChannel<S = unknown> {
  readonly channel: string;
  /** The channel's members: `current` + `subscribe`, and join/update/leave events. */
  readonly members = new PresenceMembers<S>();
  readonly #events = new Emitter<PresenceChannelEvents>();
  readonly #host: PresenceHost;
  /** What this client wants on the server: entered with a state, or not. */
  #desired: { state: unknown } | undefined;
  /** The server may still hold an entry (left while offline): send a leave on connect. */
  #leaveOnConnect = false;
  #watching = true;
  #closed = false;
  #inflight = false;
  #dirty = false;
  #waiters: Waiter[] = [];
  /** Planned retries of a refused watch / entry, and how many in a row failed. */
  readonly #retry = {
    watch: undefined as ReturnType<typeof setTimeout> | undefined,
    enter: undefined as ReturnType<typeof setTimeout> | undefined,
    attempts: 0,
  };

  constructor(channel: string, host: PresenceHost) {
    this.channel = channel;
    this.#host = host;
    if (host.connected) this.#watch();
  }

  /** This client's current state, undefined when not entered. */
  get state(): S | undefined {
    return this.#desired?.state as S | undefined;
  }

  /** True while this client is (or wants to be) in the set. */
  get entered(): boolean {
    return this.#desired !== undefined;
  }

  /** Adds an event listener; returns the remover. */
  on<K extends keyof PresenceChannelEvents>(event: K, listener: (p: PresenceChannelEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Enters the set with `state` (needs the `presence` capability); resolves once the server has it. */
  enter(state: S = null as S): Promise<void> {
    return this.#set(state);
  }

  /**
   * Replaces this client's state (entering when not entered). Calls made
   * while one is in flight are coalesced: only the latest is sent.
   */
  update(state: S): Promise<void> {
    return this.#set(state);
  }

  /** Leaves the set. */
  async leave(): Promise<void> {
    if (this.#desired === undefined) return;
    this.#desired = undefined;
    this.#dirty = false;
    this.#settle(undefined);
    if (!this.#host.connected) {
      this.#leaveOnConnect = true;
      return;
    }
    await this.#host.request({ type: 'presence.leave', channel: this.channel, clientId: this.#host.clientId });
  }

  /** Leaves, stops watching and forgets this channel object. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#host.connected) {
      if (this.#desired !== undefined) {
        this.#host
          .request({ type: 'presence.leave', channel: this.channel, clientId: this.#host.clientId })
          .catch(() => undefined);
      }
      if (this.#watching) {
        this.#host.request({ type: 'presence.unsubscribe', channel: this.channel }).catch(() => undefined);
      }
    }
    this.#clearRetries();
    this.#desired = undefined;
    this.#watching = false;
    this.#settle(undefined);
    this.members.clear();
    this.#host.release(this.channel);
  }

  #set(state: unknown): Promise<void> {
    if (this.#closed) return Promise.reject(new SynclineError('client_closed', 'The presence channel is closed.'));
    this.#desired = { state: state === undefined ? null : state };
    this.#leaveOnConnect = false;
    const p = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#dirty = true;
    this.#pump();
    return p;
  }

  /** Sends the desired state when connected and nothing is in flight (latest wins). */
  #pump(): void {
    if (this.#inflight || !this.#dirty || !this.#host.connected || this.#desired === undefined) return;
    this.#dirty = false;
    this.#inflight = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    const state = this.#desired.state;
    this.#host.request({ type: 'presence.enter', channel: this.channel, clientId: this.#host.clientId, state }).then(
      () => {
        this.#inflight = false;
        this.#retry.attempts = 0;
        for (const w of waiters) w.resolve();
        this.#pump();
      },
      (err: unknown) => {
        this.#inflight = false;
        const e = toSynclineError(err);
        if (e.code === 'connection_lost') {
          // Resent by the connect hook with the latest state.
          this.#waiters.unshift(...waiters);
          this.#dirty = this.#desired !== undefined;
          return;
        }
        if (e.group === 'retry' && this.#desired !== undefined) {
          // Temporary (the node lost its broker, a rate limit): send the latest state again after a backoff.
          this.#waiters.unshift(...waiters);
          this.#dirty = true;
          this.#retryLater('enter', e, () => this.#pump());
          return;
        }
        for (const w of waiters) w.reject(e);
        this.#events.emit('error', e);
        this.#pump();
      },
    );
  }

  #settle(err: SynclineError | undefined): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }

  #watch(): void {
    this.members.resync();
    this.#host.request({ type: 'presence.subscribe', channel: this.channel }).then(
      () => {
        this.#retry.attempts = 0;
      },
      (err: unknown) => {
        const e = toSynclineError(err);
        if (e.code === 'connection_lost' || e.code === 'client_closed' || this.#closed) return;
        if (e.group === 'retry' && this.#watching) {
          // Temporary: watch again after a backoff (a reconnect re-watches anyway).
          this.#retryLater('watch', e, () => this.#watch());
          return;
        }
        this.#watching = false;
        this.#events.emit('error', e);
      },
    );
  }

  /** Runs `fn` after the server's hint or a growing backoff, while connected and open. */
  #retryLater(what: 'watch' | 'enter', err: SynclineError, fn: () => void): void {
    if (this.#retry[what] !== undefined) return;
    const attempt = this.#retry.attempts++;
    const delay = Math.max(
      err.retryAfterMs ?? 0,
      backoffDelay(attempt, { minDelayMs: 500, maxDelayMs: PRESENCE_RETRY_MAX_MS }),
    );
    this.#retry[what] = setTimeout(() => {
      this.#retry[what] = undefined;
      if (!this.#closed && this.#host.connected) fn();
    }, delay);
  }

  #clearRetries(): void {
    clearTimeout(this.#retry.watch);
    clearTimeout(this.#retry.enter);
    this.#retry.watch = undefined;
    this.#retry.enter = undefined;
  }

  // ---- called by the client ----

  /** @internal The connection is (re)established: re-watch and re-enter. */
  connected(): void {
    if (this.#closed) return;
    // A new connection re-watches and re-enters now: planned retries are moot.
    this.#clearRetries();
    if (this.#watching) this.#watch();
    if (this.#desired !== undefined) {
      this.#dirty = true;
      this.#inflight = false;
      this.#pump();
    } else if (this.#leaveOnConnect) {
      this.#leaveOnConnect = false;
      this.#host
        .request({ type: 'presence.leave', channel: this.channel, clientId: this.#host.clientId })
        .catch(() => undefined);
    }
  }

  /** @internal A presence push for this channel. */
  handle(msg: PresenceStateMessage | PresenceDiffMessage | PresenceEndedMessage): void {
    if (this.#closed) return;
    if (msg.type === 'presence.state') this.members.applyState(msg);
    else if (msg.type === 'presence.diff') this.members.applyDiff(msg);
    else {
      if (msg.what === 'entry') {
        this.#desired = undefined;
        this.#dirty = false;
      } else {
        this.#watching = false;
        this.members.clear();
      }
      this.#events.emit('ended', { what: msg.what, code: msg.code, message: msg.message });
    }
  }
}
