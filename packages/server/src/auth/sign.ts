import { SignJWT } from 'jose';
import type { Capability } from './capabilities.js';

/** What goes into a token made by `signToken`. */
export interface SignTokenOptions {
  readonly sub: string;
  readonly caps: readonly Capability[];
  /** Lifetime in seconds (default 3600). */
  readonly ttlSec?: number;
  /** Extra public info about the user (name, avatar), shown in presence. */
  readonly info?: unknown;
}

/** Signs an HS256 connection token; for dev tokens, tests and app backends in Node. */
export async function signToken(secret: string | Uint8Array, options: SignTokenOptions): Promise<string> {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  const claims: Record<string, unknown> = { caps: options.caps };
  if (options.info !== undefined) claims.info = options.info;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlSec ?? 3600))
    .sign(key);
}
