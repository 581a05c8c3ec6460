import type { Logger } from 'pino';
import type { NamespaceRegistry } from '../channels/namespaces.js';
import type { Session } from '../session/session.js';
import type { SqliteHistory } from '../storage/sqlite-history.js';

/** Interval of the embedded history's TTL trim. */
export const HISTORY_TRIM_INTERVAL_MS = 60_000;

/**
 * Heartbeats: one timer for the node. Each round pings every connected
 * session; a session still awaiting the pong of the previous round is dead
 * and closed with `HEARTBEAT_TIMEOUT`. Returns the (unref'd) timer.
 */
export function startHeartbeats(sessions: ReadonlySet<Session>, intervalMs: number): NodeJS.Timeout {
  const timer = setInterval(() => {
    for (const s of sessions) {
      if (s.state !== 'connected') continue;
      if (s.awaitingPong) {
        s.close('HEARTBEAT_TIMEOUT', 'no pong');
        continue;
      }
      s.awaitingPong = true;
      s.pushFrame('{"type":"ping"}');
    }
  }, intervalMs);
  timer.unref();
  return timer;
}

/** Removes publications past their namespace's TTL from the embedded history, once a minute. */
export function startHistoryTrim(
  namespaces: NamespaceRegistry,
  history: SqliteHistory,
  logger: Logger,
): NodeJS.Timeout {
  const timer = setInterval(() => {
    const now = Date.now();
    for (const ns of namespaces.all()) {
      try {
        history.trimExpired(ns.name, ns.history.ttlMs, now);
      } catch (err) {
        logger.warn({ err }, 'history trim failed');
      }
    }
  }, HISTORY_TRIM_INTERVAL_MS);
  timer.unref();
  return timer;
}
