import { PROTOCOL_FEATURES, SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { Session } from '../session/session.js';
import { SharedFrame } from '../session/shared-frame.js';
import { encodeStateParts, PresenceStateSender } from './presence-state-sender.js';
import type { PresenceChange, PresenceFanout, PresenceSnapshot, PresenceStore } from './presence-store.js';
import { existingSessionPresence, sessionPresence } from './session-presence.js';

/** Whether a session's protocol takes `presence.state` in parts (protocol 3+). */
function speaksParts(session: Session): boolean {
  return session.protocol >= PROTOCOL_FEATURES['presence-parts'];
}

/** A channel's set as `presence.state` frames for `session`: in parts, or whole for protocol 1 and 2. */
function stateFrames(session: Session, channel: string, snapshot: PresenceSnapshot): SharedFrame[] {
  return speaksParts(session)
    ? encodeStateParts(channel, snapshot)
    : encodeStateParts(channel, snapshot, Number.POSITIVE_INFINITY);
}

/**
 * This node's presence watchers: subscribes the fanout of each watched
 * channel, sends each new watcher the channel's set (paced in parts by a
 * `PresenceStateSender`), pushes diffs in `seq` order, and re-sends the set
 * to every watcher when the fanout may have lost changes.
 */
export class PresenceWatchers {
  readonly #store: PresenceStore;
  readonly #fanout: PresenceFanout;
  readonly #logger: Logger;
  readonly #watchers = new Map<string, Set<Session>>();
  readonly #ready = new Map<string, Promise<void>>();
  /** Channels whose list is being re-read after a resync: changes wait here until the fresh list is sent. */
  readonly #resyncing = new Map<string, PresenceChange[]>();
  /** Channels to re-read once more (a resync arrived while one was running). */
  readonly #resyncAgain = new Set<string>();
  readonly #sender = new PresenceStateSender();

  constructor(store: PresenceStore, fanout: PresenceFanout, logger: Logger) {
    this.#store = store;
    this.#fanout = fanout;
    this.#logger = logger;
  }

  /**
   * Starts pushing a channel's presence to `session`: `presence.state` (in
   * parts when large: the first before this resolves, the rest as the
   * session's queue drains), then diffs.
   */
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
      throw new SynclineError('unavailable', 'Presence is unavailable right now; retry.', {
        cause: err,
        retryAfterMs: 1_000,
      });
    }
    if (session.closed || !sp.watching.has(channel)) return;
    // The first part goes out now (before the reply); the rest follow as the queue drains.
    this.#sender.send(session, channel, stateFrames(session, channel, snapshot)).catch((err: unknown) => {
      this.#logger.warn({ err, channel }, 'presence state send failed');
    });
  }

  /** Stops pushing a channel's presence to `session`. */
  unwatch(session: Session, channel: string): void {
    const sp = existingSessionPresence(session);
    sp?.watching.delete(channel);
    this.#sender.cancel(session, channel);
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
    if (snapshot && set) {
      const byProtocol = new Map<boolean, SharedFrame[]>();
      for (const s of set) {
        const parts = speaksParts(s);
        let frames = byProtocol.get(parts);
        if (!frames) {
          frames = stateFrames(s, channel, snapshot);
          byProtocol.set(parts, frames);
        }
        this.#sender.send(s, channel, frames).catch((err: unknown) => this.#logger.warn({ err, channel }, 'presence'));
      }
    }
    // Changes that came in while the list was read, in order; those the list holds are skipped.
    for (const change of held) if (!snapshot || change.seq > snapshot.seq) this.#deliver(change);
    if (this.#resyncAgain.delete(channel)) {
      await this.#resyncChannel(channel);
    } else if (!snapshot && this.#watchers.has(channel)) {
      const retry = setTimeout(
        () => {
          if (!this.#watchers.has(channel)) return;
          this.#resyncChannel(channel, attempt + 1).catch((err: unknown) =>
            this.#logger.warn({ err, channel }, 'presence resync'),
          );
        },
        Math.min(100 * 2 ** Math.min(attempt, 5), 2_000),
      );
      retry.unref();
    }
  }

  /** Pushes a change to this node's watchers of its channel (held back while the channel resyncs). */
  #deliver(change: PresenceChange): void {
    const held = this.#resyncing.get(change.channel);
    if (held) {
      held.push(change);
      return;
    }
    const set = this.#watchers.get(change.channel);
    if (!set || set.size === 0) return;
    const frame = new SharedFrame({
      type: 'presence.diff',
      channel: change.channel,
      seq: change.seq,
      action: change.action,
      entry: change.entry,
    });
    for (const s of set) s.sendShared(frame);
  }

  /** Forgets every watcher (the node closes). */
  clear(): void {
    this.#watchers.clear();
  }
}
