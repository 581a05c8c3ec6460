import { type ClientCommand, SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { AnyHandler, SessionEvents } from '../core.js';
import type { ServerHooks } from '../hooks.js';
import type { ServerMetrics } from '../metrics/metrics.js';
import { FlushScheduler } from './flush-scheduler.js';
import type { Session, SessionHost } from './session.js';
import type { SessionRegistry } from './session-registry.js';

/** What the session host of a node works with. */
export interface SessionHostDeps {
  readonly maxFrameBytes: number;
  readonly maxQueueBytes: number;
  /** Command handlers by type. */
  readonly handlers: ReadonlyMap<string, AnyHandler>;
  readonly registry: SessionRegistry;
  readonly sessionEvents: SessionEvents;
  readonly hooks: ServerHooks;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
}

/** Backend failures answered to clients are logged at most once per this interval (the rest are counted). */
export const BACKEND_ERROR_LOG_INTERVAL_MS = 1_000;

/**
 * The node side of every session: command dispatch, batched flushes, and the
 * clean-up when a session closes (registry, channel sinks, close listeners,
 * `afterDisconnect`).
 */
export function createSessionHost(deps: SessionHostDeps): SessionHost {
  const { handlers, registry, sessionEvents, hooks, logger, metrics } = deps;
  const flushes = new FlushScheduler((seconds) => metrics.deliveryLatency.observe(seconds));
  const backendLog = { at: 0, suppressed: 0 };
  return {
    maxFrameBytes: deps.maxFrameBytes,
    maxQueueBytes: deps.maxQueueBytes,
    maxCommandsPerFrame: 100,
    dispatch(session: Session, command: ClientCommand) {
      const handler = handlers.get(command.type);
      if (!handler)
        throw new SynclineError('unknown_command', `Command "${command.type}" is not enabled on this server.`);
      return handler(session, command);
    },
    scheduleFlush(session: Session) {
      flushes.schedule(session);
    },
    sessionClosed(session: Session, code: number, reason: string) {
      registry.remove(session);
      for (const l of sessionEvents.closed) {
        try {
          l(session, code, reason);
        } catch (err) {
          logger.error({ err }, 'session close listener failed');
        }
      }
      if (session.principal) {
        try {
          hooks.afterDisconnect?.({ session: session.id, user: session.user, code, reason });
        } catch (err) {
          logger.warn({ err }, 'afterDisconnect hook failed');
        }
      }
      logger.debug({ session: session.id, code, reason }, 'session closed');
    },
    onSlowConsumer() {
      metrics.sendQueueDrops.inc();
    },
    onErrorReply(code) {
      metrics.errorReplies.inc({ code });
    },
    logError(err: unknown, session: Session) {
      logger.error({ err, session: session.id }, 'command failed');
    },
    logBackendError(err, session) {
      // One line per interval at most: an outage fails many commands at once.
      const now = Date.now();
      if (now - backendLog.at < BACKEND_ERROR_LOG_INTERVAL_MS) {
        backendLog.suppressed++;
        return;
      }
      logger.warn(
        { err: err.cause, code: err.code, session: session.id, suppressed: backendLog.suppressed },
        `backend call failed: ${err.message}`,
      );
      backendLog.at = now;
      backendLog.suppressed = 0;
    },
  };
}
