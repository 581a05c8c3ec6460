import type { IncomingMessage, ServerResponse } from 'node:http';
import { SynclineError } from '@syncline/protocol';

/** Handles one HTTP request; `params` holds `:name` path segments. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => unknown;

interface Route {
  readonly method: string;
  readonly parts: readonly string[];
  readonly handler: HttpHandler;
}

/** HTTP status for each error code. */
export function httpStatusFor(code: string): number {
  switch (code) {
    case 'unauthorized':
    case 'token_expired':
      return 401;
    case 'forbidden':
    case 'revoked':
    case 'publish_disabled':
      return 403;
    case 'not_found':
    case 'session_not_found':
    case 'unknown_namespace':
      return 404;
    case 'method_not_allowed':
      return 405;
    case 'frame_too_large':
      return 413;
    case 'rate_limited':
    case 'limit_exceeded':
      return 429;
    case 'unavailable':
    case 'server_draining':
    case 'too_many_connections':
      return 503;
    case 'timeout':
      return 504;
    case 'internal':
      return 500;
    default:
      return 400;
  }
}

/** Writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Writes a `SynclineError` as `{ error: { code, message } }` with its status. */
export function sendError(res: ServerResponse, err: SynclineError): void {
  const body: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.retryAfterMs !== undefined) body.retryAfterMs = err.retryAfterMs;
  if (err.details !== undefined) body.details = err.details;
  if (!res.headersSent) sendJson(res, httpStatusFor(err.code), { error: body });
  else res.end();
}

/** Reads a request body up to `maxBytes`; rejects with `frame_too_large` beyond. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        reject(
          new SynclineError('frame_too_large', `Request body exceeds ${maxBytes} bytes.`, {
            details: { limit: maxBytes },
          }),
        );
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

/** Tiny method + path router with `:param` segments. */
export class HttpRouter {
  readonly #routes: Route[] = [];

  /** Adds a route, e.g. `router.add('GET', '/v1/docs/:name', h)`. */
  add(method: string, path: string, handler: HttpHandler): void {
    this.#routes.push({ method, parts: path.split('/').filter(Boolean), handler });
  }

  /**
   * Finds the handler of a request: undefined when no route has this path,
   * `{ allow }` (the methods it takes) when the path exists with other methods.
   */
  match(
    method: string,
    pathname: string,
  ): { handler: HttpHandler; params: Record<string, string> } | { allow: string[] } | undefined {
    const parts = pathname.split('/').filter(Boolean);
    const allow: string[] = [];
    for (const r of this.#routes) {
      if (r.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const want = r.parts[i] as string;
        const got = parts[i] as string;
        if (want.startsWith(':')) {
          try {
            params[want.slice(1)] = decodeURIComponent(got);
          } catch {
            ok = false;
            break;
          }
        } else if (want !== got) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (r.method === method) return { handler: r.handler, params };
      if (!allow.includes(r.method)) allow.push(r.method);
    }
    return allow.length > 0 ? { allow } : undefined;
  }
}
