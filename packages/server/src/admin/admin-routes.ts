import type { IncomingMessage, ServerResponse } from 'node:http';
import { SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import * as v from 'valibot';
import { readJsonBody } from '../http/api-request.js';
import { clientAddress } from '../http/client-address.js';
import { type HttpRouter, sendJson } from '../http/router.js';
import { ADMIN_LOGIN_MAX_BODY_BYTES, MAX_ADMIN_KEY_BYTES } from './admin-options.js';
import { adminSessionOf, assertSameOrigin, rateLimited, sessionCookie, viaHttps } from './admin-request.js';
import { type AdminSession, type AdminSessions, sameSecret } from './admin-sessions.js';
import type { AdminStatic } from './admin-static.js';
import type { OverviewAnswer } from './cluster-overview.js';
import { type ConsoleReadSources, registerConsoleReads } from './console-reads.js';
import type { LoginLimiter } from './login-limiter.js';

/** Body of `POST /admin/login`. */
const LoginBody = v.strictObject({ key: v.pipe(v.string(), v.maxLength(MAX_ADMIN_KEY_BYTES)) });

/** What the console routes work with. */
export interface AdminRouteContext {
  readonly key: string;
  readonly sessions: AdminSessions;
  /** Resolves once the latest change of the sessions reached the other nodes' bus (never rejects). */
  announce(): Promise<void>;
  readonly limiter: LoginLimiter;
  readonly files: AdminStatic;
  readonly logger: Logger;
  readonly trustProxyHops: number;
  readonly nodeId: string;
  /** This node's latest snapshot and history, and every other node's that answers in time. */
  overview(): Promise<OverviewAnswer>;
  /** The node's document namespaces and webhook counts, for the console's pages. */
  readonly reads: ConsoleReadSources;
}

function noStore(res: ServerResponse, status: number, body: unknown): void {
  res.setHeader('cache-control', 'no-store');
  sendJson(res, status, body);
}

/** The session of a request, or `unauthorized`. */
function requireSession(req: IncomingMessage, ctx: AdminRouteContext): AdminSession {
  const s = adminSessionOf(req, ctx.sessions, ctx.trustProxyHops);
  if (!s) throw new SynclineError('unauthorized', 'Sign in to the console first (POST /admin/login).');
  return s;
}

/** Registers the console's routes: sign-in and out, its session, connection tokens, the overview, its pages. */
export function registerAdminRoutes(router: HttpRouter, ctx: AdminRouteContext): void {
  router.add('POST', '/admin/login', async (req, res) => {
    assertSameOrigin(req, ctx.trustProxyHops);
    const ip = clientAddress(req, ctx.trustProxyHops);
    const wait = await ctx.limiter.retryAfterMs(ip);
    if (wait > 0) {
      req.resume();
      throw rateLimited(res, wait, 'from this address or in total');
    }
    const body = await readJsonBody(req, LoginBody, ADMIN_LOGIN_MAX_BODY_BYTES);
    if (!sameSecret(body.key, ctx.key)) {
      await ctx.limiter.failed(ip);
      ctx.logger.warn({ ip }, 'admin: sign-in with a wrong key');
      throw new SynclineError('unauthorized', 'Wrong admin key.');
    }
    const s = ctx.sessions.create();
    ctx.logger.info({ admin: s.tag, ip }, 'admin: signed in');
    const maxAge = Math.round((s.expiresAt - Date.now()) / 1000);
    res.setHeader('set-cookie', sessionCookie(s.id, maxAge, viaHttps(req, ctx.trustProxyHops)));
    noStore(res, 200, { csrf: s.csrf, expiresAt: s.expiresAt, node: ctx.nodeId });
  });
  router.add('POST', '/admin/logout', async (req, res) => {
    const s = requireSession(req, ctx);
    ctx.sessions.end(s);
    // Answer once the other nodes were told (they refuse the session from when they hear it).
    await ctx.announce();
    ctx.logger.info({ admin: s.tag, ip: clientAddress(req, ctx.trustProxyHops) }, 'admin: signed out');
    res.setHeader('set-cookie', sessionCookie('', 0, viaHttps(req, ctx.trustProxyHops)));
    noStore(res, 200, { ok: true });
  });
  router.add('GET', '/admin/api/session', (req, res) => {
    const s = requireSession(req, ctx);
    noStore(res, 200, { csrf: s.csrf, expiresAt: s.expiresAt, node: ctx.nodeId });
  });
  router.add('GET', '/admin/api/token', (req, res) => {
    const s = requireSession(req, ctx);
    noStore(res, 200, ctx.sessions.mintToken(s));
  });
  router.add('GET', '/admin/api/overview', async (req, res) => {
    requireSession(req, ctx);
    noStore(res, 200, await ctx.overview());
  });
  registerConsoleReads(
    router,
    (path, answer) =>
      router.add('GET', path, async (req, res) => {
        requireSession(req, ctx);
        noStore(res, 200, await answer(req));
      }),
    ctx.files,
    ctx.reads,
  );
  const page =
    (rest: (params: Record<string, string>) => string) =>
    (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) =>
      ctx.files.serve(req, res, rest(params));
  for (const method of ['GET', 'HEAD']) {
    router.add(
      method,
      '/admin',
      page(() => '/'),
    );
    router.add(
      method,
      '/admin/:page',
      page((p) => `/${p.page}`),
    );
    router.add(
      method,
      '/admin/assets/:file',
      page((p) => `/assets/${p.file}`),
    );
    // Deep links of the console's pages (`/admin/channels/<name>`, `/admin/users/<id>`): the page itself.
    router.add(
      method,
      '/admin/:page/:item',
      page((p) => `/${p.page}`),
    );
  }
}
