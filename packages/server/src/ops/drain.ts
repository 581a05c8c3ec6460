import type { Session } from '../session/session.js';

/** Options of `server.drain`. */
export interface DrainOptions {
  /**
   * Window over which connections are closed, ms (default 10 s). Each
   * connection is closed at a random moment within it, so clients reconnect
   * to other nodes spread out instead of all at once.
   */
  readonly windowMs?: number;
}

/** Default drain window. */
export const DEFAULT_DRAIN_WINDOW_MS = 10_000;

/** Longest reconnect delay hinted to a drained client, ms. */
const MAX_RECONNECT_HINT_MS = 1_000;

/**
 * Closes every session with `SHUTDOWN` at a random moment within the window
 * (each with a small random reconnect delay hint) and resolves once all are
 * closed. Sessions that close by themselves meanwhile are not waited for.
 */
export function drainSessions(sessions: ReadonlySet<Session>, windowMs: number): Promise<void> {
  const list = [...sessions];
  const timers: NodeJS.Timeout[] = [];
  return new Promise<void>((resolve) => {
    let left = list.length;
    if (left === 0) {
      resolve();
      return;
    }
    const done = (): void => {
      left--;
      if (left === 0) resolve();
    };
    for (const s of list) {
      const at = Math.floor(Math.random() * Math.max(0, windowMs));
      const hint = Math.floor(Math.random() * Math.min(MAX_RECONNECT_HINT_MS, Math.max(1, windowMs)));
      timers.push(
        setTimeout(() => {
          s.close('SHUTDOWN', 'node draining; reconnect to another node', hint);
          done();
        }, at),
      );
    }
  }).finally(() => {
    for (const t of timers) clearTimeout(t);
  });
}
