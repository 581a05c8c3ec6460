import type { Logger } from 'pino';
import type { NamespaceRegistry } from '../namespaces/namespaces.js';
import type { Session } from '../session/session.js';
import { SharedFrame } from '../session/shared-frame.js';
import type { SqliteHistory } from '../storage/sqlite-history.js';

/** Interval of the embedded history's TTL trim. */
export const HISTORY_TRIM_INTERVAL_MS = 60_000;

const PING_FRAME = new SharedFrame({ type: 'ping' });

/** Most groups a node's heartbeats are spread over (one timer tick per group per interval). */
export const HEARTBEAT_GROUPS = 25;
/** Shortest tick of the heartbeat timer, ms: short intervals use fewer groups. */
const HEARTBEAT_MIN_TICK_MS = 20;

/**
 * Heartbeats: one timer for the node, its pings spread over the interval.
 * Sessions fall into up to {@link HEARTBEAT_GROUPS} groups by their serial
 * number, and each tick of the timer handles one group, so every session is
 * pinged once per `intervalMs` but the node never writes a ping to every
 * connection at once (10,000 pings in one round took the writes of ~200 ms
 * and held up every delivery queued behind them). A session of the tick's
 * group still awaiting the pong of its previous ping, one interval ago, is
 * dead and closed with `HEARTBEAT_TIMEOUT`. The verdict waits for the I/O
 * that is already in (timers run before sockets are read in an event-loop
 * turn): a pong that arrived while the process was busy saves its session,
 * which is then pinged for this round. A session is first pinged in the
 * first round of its group that comes half an interval or more after it
 * was accepted (so within 1.5 intervals; the client allows two intervals
 * of silence). Returns the (unref'd) timer.
 */
export function startHeartbeats(sessions: ReadonlySet<Session>, intervalMs: number): NodeJS.Timeout {
  const groups = Math.max(1, Math.min(HEARTBEAT_GROUPS, Math.floor(intervalMs / HEARTBEAT_MIN_TICK_MS)));
  let group = 0;
  const ping = (s: Session): void => {
    s.awaitingPong = true;
    s.sendShared(PING_FRAME);
  };
  const timer = setInterval(
    () => {
      const current = group;
      group = (group + 1) % groups;
      // Sessions accepted within the last half interval are left for the next round: their
      // connect just showed the link works both ways, and during a reconnect storm their
      // pings would be writes (and pongs reads) on top of the connects.
      const youngAfter = Date.now() - intervalMs / 2;
      let suspects: Session[] | undefined;
      for (const s of sessions) {
        if (s.state !== 'connected' || s.serial % groups !== current || s.createdAt > youngAfter) continue;
        if (s.awaitingPong) {
          suspects ??= [];
          suspects.push(s);
          continue;
        }
        ping(s);
      }
      if (!suspects) return;
      const list = suspects;
      setImmediate(() => {
        for (const s of list) {
          if (s.state !== 'connected') continue;
          if (s.awaitingPong) s.close('HEARTBEAT_TIMEOUT', 'no pong');
          else ping(s);
        }
      });
    },
    Math.ceil(intervalMs / groups),
  );
  timer.unref();
  return timer;
}

/** Longest wait between two deadline sweeps, ms: token expiries close at most this late. */
export const DEADLINE_SWEEP_MAX_INTERVAL_MS = 1_000;

/**
 * Connect deadlines and token expiries: one timer for the node instead of
 * two per connection. Each round closes the sessions still not connected
 * `connectTimeoutMs` after they were accepted (`CONNECT_TIMEOUT`) and the
 * connected sessions whose current token expired unrefreshed
 * (`TOKEN_EXPIRED`, at `expiresAt` plus the verifier's clock tolerance).
 * Both deadlines are derived from the session itself (accept time, current
 * principal), so nothing is kept per connection. A close comes at most one
 * round late: rounds run every second, or every quarter of
 * `connectTimeoutMs` when that is shorter. Returns the (unref'd) timer.
 */
export function startDeadlineSweep(sessions: ReadonlySet<Session>, connectTimeoutMs: number): NodeJS.Timeout {
  const intervalMs = Math.max(10, Math.min(DEADLINE_SWEEP_MAX_INTERVAL_MS, Math.floor(connectTimeoutMs / 4)));
  const timer = setInterval(() => {
    const now = Date.now();
    const acceptedBefore = now - connectTimeoutMs;
    for (const s of sessions) {
      if (s.state === 'connected') {
        const p = s.principal;
        if (p?.expiresAt !== undefined && p.expiresAt + (p.graceMs ?? 0) <= now)
          s.close('TOKEN_EXPIRED', 'token expired');
      } else if (s.createdAt <= acceptedBefore && (s.state === 'connecting' || s.state === 'authenticating')) {
        s.close('CONNECT_TIMEOUT', 'no connect command in time');
      }
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
