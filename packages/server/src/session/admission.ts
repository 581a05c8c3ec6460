import { SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { RevocationCache } from '../auth/revocation-cache.js';
import type { Principal } from '../auth/token-verifier.js';
import type { AnyHandler, Limits, SessionEvents } from '../core.js';
import type { ServerHooks } from '../hooks.js';
import type { Session } from './session.js';
import type { SessionRegistry } from './session-registry.js';
import { UserSlots } from './user-slots.js';

/**
 * The checks on a verified principal at `connect` and `refresh`: revocation,
 * then (at connect) the per-user connection limit, counting connections still
 * connecting so a burst cannot pass it. Keeps the registry's user index in
 * step with the connected and closed events.
 */
export function createAdmission(deps: {
  readonly revocations: RevocationCache;
  readonly registry: SessionRegistry;
  readonly limits: Limits;
  readonly sessionEvents: SessionEvents;
}): (principal: Principal, session: Session) => void {
  const { revocations, registry, limits, sessionEvents } = deps;
  const userSlots = new UserSlots();
  sessionEvents.closed.add((session) => userSlots.release(session));
  sessionEvents.connected.add((session) => {
    userSlots.release(session);
    registry.connected(session);
  });
  return (principal, session) => {
    revocations.check(principal);
    if (session.state === 'connected') return;
    const held = registry.countOf(principal.user) + userSlots.pending(principal.user, session);
    if (held >= limits.maxConnectionsPerUser) {
      throw new SynclineError(
        'too_many_connections',
        `User already has ${limits.maxConnectionsPerUser} connections on this node.`,
        { details: { limit: 'maxConnectionsPerUser', value: limits.maxConnectionsPerUser } },
      );
    }
    userSlots.reserve(principal.user, session);
  };
}

/**
 * Wraps the registered `connect` handler so the `connected` session event
 * and the `afterConnect` hook run once the connect reply is on its way.
 */
export function announceConnected(
  handlers: Map<string, AnyHandler>,
  sessionEvents: SessionEvents,
  hooks: ServerHooks,
  logger: Logger,
): void {
  const connectHandler = handlers.get('connect') as AnyHandler;
  handlers.set('connect', async (session, command) => {
    const result = await connectHandler(session, command);
    if (session.state === 'connected') {
      for (const l of sessionEvents.connected) l(session);
      try {
        hooks.afterConnect?.({
          session: session.id,
          user: session.user,
          principal: session.principal as Principal,
          transport: session.conn.transport,
          app: session.app,
        });
      } catch (err) {
        logger.warn({ err }, 'afterConnect hook failed');
      }
    }
    return result;
  });
}
