import type { IncomingMessage } from 'node:http';
import { SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type CompiledCapabilities, compileCapabilities, internalCapabilities } from '../auth/capabilities.js';
import type { Principal, TokenVerifier } from '../auth/token-verifier.js';
import type { NodeBus } from '../cluster/node-bus.js';
import type { NodeCalls } from '../cluster/node-calls.js';
import type { WindowCounters } from '../cluster/window-counters.js';
import { clientAddress } from '../http/client-address.js';
import type { HttpRouter } from '../http/router.js';
import type { NamespaceOptions } from '../namespaces/namespaces.js';
import type { Session } from '../session/session.js';
import type { SqliteDatabase } from '../storage/sqlite.js';
import {
  ADMIN_NAMESPACE,
  ADMIN_OVERVIEW_CHANNEL,
  ADMIN_USER,
  type AdminOptions,
  adminKeyProblem,
} from './admin-options.js';
import { adminSessionOf, isWrite } from './admin-request.js';
import { registerAdminRoutes } from './admin-routes.js';
import { AdminSessionSync } from './admin-session-sync.js';
import { ADMIN_TOKEN_PREFIX, AdminSessions } from './admin-sessions.js';
import { AdminStatic } from './admin-static.js';
import { ClusterOverview } from './cluster-overview.js';
import type { ConsoleReadSources } from './console-reads.js';
import { LoginLimiter } from './login-limiter.js';
import { type NodeSnapshot, OverviewSampler, type SamplerSources } from './overview-sampler.js';

/** What the console needs of the node once it exists. */
export interface AdminAttachment {
  readonly router: HttpRouter;
  readonly registry: Registry;
  readonly nodeId: string;
  describe: SamplerSources['describe'];
  /** Publishes on a channel from the server. */
  publish(channel: string, data: unknown): Promise<unknown>;
  /** The document namespaces and webhook counts the console's pages show. */
  readonly reads: ConsoleReadSources;
  /** The control bus to the other nodes (console sign-outs reach them over it). */
  readonly bus: NodeBus;
  /** The node's embedded database (keeps the console session ledger across restarts). */
  readonly db: SqliteDatabase;
  /** The node's open connections of a user. */
  sessionsOf(user: string): Iterable<Session>;
  /** Calls to the other nodes (their overview history), and the longest wait for their replies, ms. */
  readonly calls: NodeCalls;
  readonly callWaitMs: number;
  /** Counters shared by the cluster (sign-in failures count over every node); undefined on a node alone. */
  readonly counters?: WindowCounters | undefined;
}

/** A request of the HTTP API (`/v1/…`), as the console's authenticator sees it. */
export interface ApiRequestInfo {
  readonly method: string;
  readonly path: string;
  readonly operationId: string;
}

/** The operator console feature (see docs/admin.md). */
export interface AdminFeature {
  /** The internal namespace the console subscribes to, for the node's namespace registry. */
  readonly namespaces: Readonly<Record<string, NamespaceOptions>>;
  /** Wraps the node's token verifier: console connection tokens become the console's principal. */
  verifier(inner: TokenVerifier): TokenVerifier;
  /**
   * Accepts a console session on the HTTP API in place of the API key:
   * true for a live session (writes checked for CSRF and logged), false
   * without one; throws `forbidden` on a write without a valid CSRF header.
   */
  authenticateApi(req: IncomingMessage, route: ApiRequestInfo): boolean;
  /** Adds the routes and the overview sampler. */
  attach(node: AdminAttachment): void;
  /** Starts sampling and sharing console sessions with the other nodes (once the node listens). */
  start(): void;
  /** Stops sampling and the periodic resend of console sessions. */
  stop(): void;
}

/** Settings of the node the console reads. */
export interface AdminContext {
  readonly dev: boolean;
  readonly logger: Logger;
  readonly trustProxyHops: number;
  /** Folder of the built console (default: the package's `admin-dist/`). */
  readonly dir?: string | undefined;
}

/**
 * What a console connection token allows: `subscribe` on the console's
 * internal namespace (the overview) and on every app channel (a channel
 * page's live tail), and `read` on every app document (a document page's
 * live view). Nothing else: no publish, history, presence entry or mutate;
 * writes go through the HTTP API with the session's CSRF header.
 */
export function consoleCapabilities(): CompiledCapabilities {
  const overview = internalCapabilities([{ match: `${ADMIN_NAMESPACE}:*`, allow: ['subscribe'] }]);
  // The app's channels and documents, read only: a channel's live tail, a document's live state; never
  // publish, history, presence entry, mutate or another internal namespace (the app-token rule applies).
  const app = compileCapabilities([{ match: '*', allow: ['subscribe', 'read'] }]);
  return { allows: (op, name) => overview.allows(op, name) || app.allows(op, name) };
}

/** Creates the console for `admin` options; throws when the key is unacceptable. */
export function createAdmin(options: AdminOptions, ctx: AdminContext): AdminFeature {
  const problem = adminKeyProblem(options.key, ctx.dev);
  if (problem !== undefined) {
    throw new Error(ctx.dev ? `Bad admin option: ${problem}` : `Refusing to start in production: ${problem}`);
  }
  const { logger, trustProxyHops } = ctx;
  const sessions = new AdminSessions(options.key);
  const can = consoleCapabilities();
  let sampler: OverviewSampler | undefined;
  let sync: AdminSessionSync | undefined;
  /** The console session behind each console principal (kept off the principal, which app hooks see). */
  const sessionOf = new WeakMap<Principal, { sid: string; at: number }>();

  const principalOf = (token: string): Principal | undefined => {
    const t = sessions.token(token);
    if (!t) return undefined;
    const p: Principal = {
      user: ADMIN_USER,
      expiresAt: t.expiresAt,
      issuedAt: t.issuedAt,
      capabilities: [],
      can,
      info: { admin: t.tag },
    };
    sessionOf.set(p, { sid: t.sid, at: t.issuedAt });
    return p;
  };

  return {
    namespaces: { [ADMIN_NAMESPACE]: { history: { size: 1, ttlMs: 60_000 }, allowPublish: 'none', recover: false } },
    verifier(inner) {
      return {
        async verify(token) {
          if (!token.startsWith(ADMIN_TOKEN_PREFIX)) return inner.verify(token);
          const p = principalOf(token);
          if (!p) throw new SynclineError('unauthorized', 'This console token has expired or its session ended.');
          return p;
        },
      };
    },
    authenticateApi(req, route) {
      const s = adminSessionOf(req, sessions, trustProxyHops);
      if (!s) return false;
      if (isWrite(req.method)) {
        logger.info(
          {
            admin: s.tag,
            ip: clientAddress(req, trustProxyHops),
            method: route.method,
            path: new URL(req.url ?? '/', 'http://localhost').pathname,
            operation: route.operationId,
          },
          'admin: write through the HTTP API',
        );
      }
      return true;
    },
    attach(node) {
      // Alone and with nothing on disk, a restart forgets sign-outs: let it end every session instead.
      if (!node.bus.clustered && node.db.memory) sessions.forThisProcessOnly();
      // A console connection whose session ended (here or on another node) closes; its client asks for a
      // new token, which the ended session no longer gets.
      const closeEnded = () => {
        for (const conn of [...node.sessionsOf(ADMIN_USER)]) {
          const of = conn.principal && sessionOf.get(conn.principal);
          if (of && !sessions.isLive(of.sid, of.at)) conn.close('TOKEN_EXPIRED', 'the console session ended');
        }
      };
      sessions.subscribe(closeEnded);
      sync = new AdminSessionSync({ sessions, bus: node.bus, db: node.db, logger, onMerged: closeEnded });
      const shared = sync;
      sampler = new OverviewSampler({
        registry: node.registry,
        logger,
        describe: node.describe,
        publish: (snapshot: NodeSnapshot) => node.publish(ADMIN_OVERVIEW_CHANNEL, snapshot),
      });
      const s = sampler;
      const cluster = new ClusterOverview(
        node.calls,
        () => ({ node: s.latest, history: s.history() }),
        node.callWaitMs,
      );
      registerAdminRoutes(node.router, {
        key: options.key,
        sessions,
        announce: () => shared.announce(),
        limiter: new LoginLimiter({ shared: node.counters, logger }),
        files: new AdminStatic(ctx.dir),
        logger,
        trustProxyHops,
        nodeId: node.nodeId,
        overview: () => cluster.read(),
        reads: node.reads,
      });
    },
    start() {
      sampler?.start();
      void sync?.start();
    },
    stop() {
      sampler?.stop();
      sync?.stop();
    },
  };
}
