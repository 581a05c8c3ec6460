import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestHost } from './client-address.js';

/** How long browsers may cache a preflight answer. */
const PREFLIGHT_MAX_AGE_SEC = 600;

/** Options of the origin policy (see `ServerOptions.allowedOrigins`). */
export interface OriginPolicyOptions {
  /** Origins allowed besides the same origin; `'*'` allows any. */
  readonly allowedOrigins?: readonly string[] | undefined;
  /** Dev mode: any origin unless `allowedOrigins` is given. */
  readonly dev: boolean;
  /** Trusted proxy hops (`X-Forwarded-Host` counts as the host when > 0). */
  readonly trustProxyHops: number;
}

/** `scheme://host[:port]` in canonical form (default port dropped, lower case), or undefined. */
function canonicalOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/**
 * Which browser origins may use the node: checked on WebSocket upgrades and
 * on every routed HTTP request (transports, HTTP API, node routes). A request
 * without `Origin` is not a cross-origin browser request and always passes.
 */
export class OriginPolicy {
  readonly #any: boolean;
  readonly #allowed: ReadonlySet<string>;
  readonly #hops: number;

  constructor(options: OriginPolicyOptions) {
    const list = options.allowedOrigins;
    this.#any = list === undefined ? options.dev : list.includes('*');
    const allowed = new Set<string>();
    for (const entry of list ?? []) {
      const origin = canonicalOrigin(entry);
      if (origin !== undefined) allowed.add(origin);
    }
    this.#allowed = allowed;
    this.#hops = options.trustProxyHops;
  }

  /** True when the request carries no `Origin`, or an allowed one. */
  allows(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (this.#any) return true;
    const canonical = canonicalOrigin(origin);
    if (canonical === undefined) return false;
    if (this.#allowed.has(canonical)) return true;
    // Same origin: the Origin's host is the host the request was sent to.
    const host = requestHost(req, this.#hops);
    if (host === undefined) return false;
    try {
      const url = new URL(canonical);
      return url.host === new URL(`${url.protocol}//${host}`).host;
    } catch {
      return false;
    }
  }

  /**
   * Applies the policy to a routed request: false when its origin is refused
   * (the caller answers 403); otherwise sets the CORS headers an allowed
   * origin needs and returns true.
   */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (!this.allows(req)) return false;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'origin');
    return true;
  }

  /**
   * Answers a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`)
   * for an allowed origin: 204 with the methods and headers asked for.
   * Returns false when the request is not a preflight.
   */
  preflight(req: IncomingMessage, res: ServerResponse, methods: readonly string[]): boolean {
    const method = req.headers['access-control-request-method'];
    if (req.method !== 'OPTIONS' || req.headers.origin === undefined || method === undefined) return false;
    const headers = req.headers['access-control-request-headers'];
    res.writeHead(204, {
      'access-control-allow-methods': methods.join(', '),
      ...(headers === undefined ? {} : { 'access-control-allow-headers': headers }),
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_SEC),
    });
    res.end();
    return true;
  }
}
