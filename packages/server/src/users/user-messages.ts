import type { ServerCore } from '../core.js';

/**
 * Sends `data` to every connection of `user` on this node as a `message`
 * push; returns how many connections it was queued on. (A cluster adapter
 * carries it to the user's connections on other nodes through its broker.)
 */
export function sendToUser(core: ServerCore, user: string, data: unknown): number {
  const sessions = core.sessionsOf(user);
  if (sessions.size === 0) return 0;
  const frame = JSON.stringify({ type: 'message', data: data ?? null, ts: Date.now() });
  let n = 0;
  for (const s of sessions) {
    if (s.state !== 'connected') continue;
    s.pushFrame(frame);
    n++;
  }
  return n;
}
