import { SharedFrame } from '../session/shared-frame.js';
import type { UserHost } from './user-host.js';

/**
 * Sends `data` to every connection of `user` on this node as a `message`
 * push; returns how many connections it was queued on. (`UserOperations`
 * also sends it to the other nodes of a cluster.)
 */
export function sendToUser(host: UserHost, user: string, data: unknown): number {
  const sessions = host.sessionsOf(user);
  if (sessions.size === 0) return 0;
  const frame = new SharedFrame({ type: 'message', data: data ?? null, ts: Date.now() });
  let n = 0;
  for (const s of sessions) {
    if (s.state !== 'connected') continue;
    s.sendShared(frame);
    n++;
  }
  return n;
}
