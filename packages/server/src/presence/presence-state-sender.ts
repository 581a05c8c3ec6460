import type { PresenceEntry, PresenceStateMessage } from '@syncline/protocol';
import type { Session } from '../session/session.js';
import { SharedFrame } from '../session/shared-frame.js';
import type { PresenceSnapshot } from './presence-store.js';

/** Largest `entries` payload of one `presence.state` part, characters of JSON (a part holds at least one entry). */
export const PRESENCE_STATE_PART_BYTES = 32 * 1024;
/**
 * The next part of a split set is queued only while the watcher's send queue
 * (`Session.queuedBytes`) holds less than this, bytes. With parts of
 * `PRESENCE_STATE_PART_BYTES`, a set of any size never fills the queue past
 * about 100 KiB on its own, far below `maxQueueBytes`.
 */
export const PRESENCE_STATE_QUEUE_BYTES = 64 * 1024;
/** Longest pause between two looks at a busy watcher's send queue, ms (pauses start at 1 ms and double). */
export const PRESENCE_STATE_POLL_MAX_MS = 25;

/**
 * A channel's set as `presence.state` messages whose entries hold at most
 * `partBytes` each (measured as JSON): one message without `more`/`part`
 * when the set fits, else parts numbered from 0 with `more: true` on all but
 * the last (see `PresenceStateMessage`). Each is a frame shared by every
 * watcher it goes to.
 */
export function encodeStateParts(
  channel: string,
  snapshot: PresenceSnapshot,
  partBytes: number = PRESENCE_STATE_PART_BYTES,
): SharedFrame<PresenceStateMessage>[] {
  const groups: PresenceEntry[][] = [];
  let group: PresenceEntry[] = [];
  let bytes = 0;
  for (const entry of snapshot.entries) {
    const size = Number.isFinite(partBytes) ? JSON.stringify(entry).length + 1 : 0;
    if (group.length > 0 && bytes + size > partBytes) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(entry);
    bytes += size;
  }
  groups.push(group);
  const { seq } = snapshot;
  if (groups.length === 1) return [new SharedFrame({ type: 'presence.state', channel, seq, entries: group })];
  const last = groups.length - 1;
  return groups.map(
    (entries, part) =>
      new SharedFrame<PresenceStateMessage>(
        part < last
          ? { type: 'presence.state', channel, seq, entries, more: true, part }
          : { type: 'presence.state', channel, seq, entries, part },
      ),
  );
}

interface Delivery {
  cancelled: boolean;
}

/**
 * Sends `presence.state` parts to watchers, paced against each watcher's send
 * queue: the first part at once, each next one when the queue has drained
 * below `PRESENCE_STATE_QUEUE_BYTES`, so a large set never closes a watcher
 * as a slow consumer. One delivery per session and channel: a new one (a
 * resync) or `cancel` (an unwatch) stops the previous one between parts, and
 * the client drops an unfinished set when a new part 0 arrives.
 */
export class PresenceStateSender {
  readonly #active = new WeakMap<Session, Map<string, Delivery>>();

  /**
   * Sends `frames` (from `encodeStateParts`) to `session` in order. Resolves
   * true once the last is queued, false when the delivery was cancelled or
   * the session closed first.
   */
  send(session: Session, channel: string, frames: readonly SharedFrame[]): Promise<boolean> {
    this.cancel(session, channel);
    const [first] = frames;
    if (first === undefined || session.closed) return Promise.resolve(false);
    session.sendShared(first);
    if (frames.length === 1) return Promise.resolve(true);
    const delivery: Delivery = { cancelled: false };
    let byChannel = this.#active.get(session);
    if (!byChannel) {
      byChannel = new Map();
      this.#active.set(session, byChannel);
    }
    byChannel.set(channel, delivery);
    const finish = (): void => {
      if (byChannel.get(channel) === delivery) byChannel.delete(channel);
    };
    return new Promise((resolve) => {
      let next = 1;
      let pauseMs = 1;
      const step = (): void => {
        while (!delivery.cancelled && !session.closed && next < frames.length) {
          if (session.queuedBytes >= PRESENCE_STATE_QUEUE_BYTES) break;
          session.sendShared(frames[next] as SharedFrame);
          next += 1;
          pauseMs = 1;
        }
        if (delivery.cancelled || session.closed || next >= frames.length) {
          finish();
          resolve(next >= frames.length && !delivery.cancelled && !session.closed);
          return;
        }
        const timer = setTimeout(step, pauseMs);
        timer.unref();
        pauseMs = Math.min(pauseMs * 2, PRESENCE_STATE_POLL_MAX_MS);
      };
      step();
    });
  }

  /** Stops the delivery to `session` of `channel`'s set, if one is running. */
  cancel(session: Session, channel: string): void {
    const byChannel = this.#active.get(session);
    const delivery = byChannel?.get(channel);
    if (!delivery) return;
    delivery.cancelled = true;
    byChannel?.delete(channel);
  }
}
