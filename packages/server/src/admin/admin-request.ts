import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { SynclineError } from '@syncline/protocol';
import { requestHost } from '../http/client-address.js';
import { ADMIN_COOKIE, ADMIN_CSRF_HEADER } from './admin-options.js';
import { type AdminSession, type AdminSessions, sameSecret } from './admin-sessions.js';

/** The value of one cookie of a request. */
export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Whether the client reached the node over HTTPS (directly, or through a trusted proxy that says so). */
export function viaHttps(req: IncomingMessage, trustProxyHops: number): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted === true) return true;
  if (trustProxyHops <= 0) return false;
  const proto = req.headers['x-forwarded-proto'];
  const list = (Array.isArray(proto) ? proto.join(',') : (proto ?? '')).split(',').map((p) => p.trim());
  return list[Math.max(0, list.length - trustProxyHops)] === 'https';
}

/** The `Set-Cookie` value of a session cookie (empty value and `Max-Age=0` to clear it). */
export function sessionCookie(value: string, maxAgeSec: number, secure: boolean): string {
  return [
    `${ADMIN_COOKIE}=${value}`,
    'Path=/',
    `Max-Age=${maxAgeSec}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/**
 * Refuses a request whose `Origin` names another host than the one asked
 * (a page of another site); requests without `Origin` (not from a browser
 * page) pass.
 */
export function assertSameOrigin(req: IncomingMessage, trustProxyHops: number): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host !== requestHost(req, trustProxyHops)) {
    throw new SynclineError('forbidden', `Origin ${origin.slice(0, 200)} may not use the console.`);
  }
}

/** Whether a method changes something (needs the CSRF header). */
export function isWrite(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/**
 * The console session of a request (cookie), or undefined without a live
 * one. On a write it also checks the CSRF header and the `Origin`, and
 * throws `forbidden` when either is wrong.
 */
export function adminSessionOf(
  req: IncomingMessage,
  sessions: AdminSessions,
  trustProxyHops: number,
): AdminSession | undefined {
  const session = sessions.get(cookieValue(req, ADMIN_COOKIE));
  if (!session || !isWrite(req.method)) return session;
  assertSameOrigin(req, trustProxyHops);
  const given = req.headers[ADMIN_CSRF_HEADER];
  if (typeof given !== 'string' || !sameSecret(given, session.csrf)) {
    throw new SynclineError('forbidden', `A console write needs the "${ADMIN_CSRF_HEADER}" header of its session.`);
  }
  return session;
}

/** Answers 429 `rate_limited` with `Retry-After` (seconds) and `retryAfterMs`. */
export function rateLimited(res: ServerResponse, retryAfterMs: number, what: string): SynclineError {
  res.setHeader('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  return new SynclineError('rate_limited', `Too many failed sign-ins ${what}; try again later.`, { retryAfterMs });
}
