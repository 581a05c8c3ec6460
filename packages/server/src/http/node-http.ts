import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SynclineError, toSynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { ServerMetrics } from '../metrics/metrics.js';
import type { Transport } from '../transport/transport.js';
import { requireApiKey } from './api-auth.js';
import type { OriginPolicy } from './origin-policy.js';
import { type HttpRouter, sendError, sendJson } from './router.js';
import { StaticFiles } from './static.js';

/** What `/readyz` reports. */
export interface NodeReadiness {
  readonly ready: boolean;
  readonly draining: boolean;
  readonly connections: number;
  readonly maxConnections: number;
  /** `down` while the node has lost its broker (Redis in a cluster); the node is then not ready. */
  readonly broker?: 'up' | 'down';
  /** `down` while the node has lost its document storage (PostgreSQL in a cluster); the node is then not ready. */
  readonly docs?: 'up' | 'down';
}

/** Who may scrape `/metrics`: anyone, or with `requireKey` only holders of the API key. */
export interface MetricsAccess {
  readonly requireKey: boolean;
  readonly apiKey: string | undefined;
}

/**
 * Adds `/healthz` (liveness), `/readyz` (accepting connections, with every
 * backend up: the body names a backend that is `down`) and
 * `/metrics` (Prometheus; with `access.requireKey`, 401 `unauthorized`
 * without `Authorization: Bearer <apiKey>`).
 */
export function registerNodeRoutes(
  router: HttpRouter,
  nodeId: string,
  metrics: ServerMetrics,
  readiness: () => NodeReadiness,
  access: MetricsAccess = { requireKey: false, apiKey: undefined },
): void {
  router.add('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok', node: nodeId }));
  router.add('GET', '/readyz', (_req, res) => {
    const r = readiness();
    sendJson(res, r.ready ? 200 : 503, { ...r, node: nodeId });
  });
  router.add('GET', '/metrics', async (req, res) => {
    if (access.requireKey) requireApiKey(req, access.apiKey);
    const { contentType, body } = await metrics.render();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(body);
  });
}

/** Options of the node's HTTP server. */
export interface NodeHttpOptions {
  readonly router: HttpRouter;
  /** Transports offered WebSocket upgrades, in order. */
  readonly transports: readonly Transport[];
  /** Folder of static files served when no route matches (never under the node's own paths). */
  readonly staticDir?: string | undefined;
  readonly logger: Logger;
  /** True while draining: upgrades are refused with 503 before upgrading. */
  readonly draining: () => boolean;
  /** Allowed browser origins: upgrades and routed requests from others get 403 (default: no check). */
  readonly origins?: OriginPolicy | undefined;
}

/**
 * The node's HTTP server: routes first, then static files, else
 * `not_found`; errors become the documented JSON error shape. Upgrades go to
 * the first transport that takes them.
 */
export function createNodeHttpServer(options: NodeHttpOptions): Server {
  const { router, transports, logger } = options;
  const files = options.staticDir ? new StaticFiles(options.staticDir) : undefined;
  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      const m = router.match(req.method ?? 'GET', url.pathname);
      if (m && options.origins) {
        if (!options.origins.apply(req, res)) {
          req.resume();
          throw new SynclineError('forbidden', `Origin ${req.headers.origin} is not allowed.`);
        }
        if ('allow' in m && options.origins.preflight(req, res, m.allow)) return;
      }
      if (m && 'allow' in m) {
        res.setHeader('allow', m.allow.join(', '));
        sendError(
          res,
          new SynclineError(
            'method_not_allowed',
            `Method ${req.method} is not allowed on ${url.pathname}; use ${m.allow.join(' or ')}.`,
          ),
        );
        return;
      }
      if (m) {
        await m.handler(req, res, m.params);
        return;
      }
      if (files && (await files.serve(req, res, url.pathname))) return;
      sendError(res, new SynclineError('not_found', `No route for ${req.method} ${url.pathname}.`));
    } catch (err) {
      const e = toSynclineError(err);
      if (e.code === 'internal') logger.error({ err }, 'http request failed');
      sendError(res, e);
    }
  };

  const httpServer = createHttpServer((req, res) => {
    void onRequest(req, res);
  });
  httpServer.on('upgrade', (req, socket, head) => {
    if (options.draining()) {
      // Refused before the upgrade, so a load balancer tries another node at once.
      socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n\r\n');
      return;
    }
    if (options.origins && !options.origins.allows(req)) {
      // A page of another site must not open a socket with the user's cookies or network position.
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    for (const t of transports) if (t.handleUpgrade?.(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  httpServer.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  return httpServer;
}
