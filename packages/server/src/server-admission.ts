import { clientAddress } from './http/client-address.js';
import type { ServerMetrics } from './metrics/metrics.js';
import { REJECTED_RETRY_MS } from './server-options.js';
import type { IpSlots } from './session/ip-slots.js';
import { Session, type SessionHost } from './session/session.js';
import type { SessionRegistry } from './session/session-registry.js';
import type { ConnectionHandler } from './transport/transport.js';

/** What admitting connections needs from the node. */
export interface ConnectionAdmissionDeps {
  readonly host: SessionHost;
  readonly registry: SessionRegistry;
  readonly ipSlots: IpSlots;
  readonly metrics: ServerMetrics;
  readonly maxConnections: number;
  readonly trustProxyHops: number;
  /** Whether the node refuses every new connection (draining or closing). */
  readonly refusing: () => boolean;
}

/**
 * The one connection handler every transport hands its connections to. A
 * connection is refused (closed at once with a jittered reconnect hint, and
 * counted in `rejectedConnections`) when the node is at its connection limit
 * (`TOO_MANY_CONNECTIONS`), draining or closing (`SHUTDOWN`), or when its
 * client address holds too many slots (`TOO_MANY_CONNECTIONS` after the
 * error). Otherwise its session is registered; the connect deadline is
 * checked by the node-wide deadline sweep.
 */
export function createConnectionAcceptor(deps: ConnectionAdmissionDeps): ConnectionHandler {
  const { host, registry, ipSlots, metrics, maxConnections, trustProxyHops } = deps;
  return (conn, req) => {
    const session = new Session(conn, host);
    const refusing = deps.refusing();
    if (registry.size >= maxConnections || refusing) {
      const full = !refusing;
      metrics.rejectedConnections.inc({ reason: full ? 'limit' : 'draining' });
      // The reconnect hint is jittered so refused clients do not return together.
      session.close(
        full ? 'TOO_MANY_CONNECTIONS' : 'SHUTDOWN',
        full ? 'node at connection limit' : 'node draining or closing',
        REJECTED_RETRY_MS + Math.floor(Math.random() * REJECTED_RETRY_MS),
      );
      // A refused connection's opening command is not run.
      conn.openingAnswered?.();
      return;
    }
    const ip = clientAddress(req, trustProxyHops);
    const refused = ipSlots.refusal(ip);
    if (refused) {
      // WebSocket: accepted and closed at once with 4009 and the error (HTTP transports answer 429 earlier).
      metrics.rejectedConnections.inc({ reason: 'ip_limit' });
      session.replyError(undefined, refused);
      session.close('TOO_MANY_CONNECTIONS', refused.message, refused.retryAfterMs);
      conn.openingAnswered?.();
      return;
    }
    registry.add(session);
    ipSlots.add(session, ip);
    const opening = conn.takeOpening?.();
    if (opening !== undefined) session.receiveOpening(opening);
  };
}
