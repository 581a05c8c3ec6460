import { SynclineError } from '@syncline/protocol';
import { signToken } from '../auth/sign.js';
import { clientAddress } from '../http/client-address.js';
import { readBody, sendJson } from '../http/router.js';
import type { SynclineServer } from '../server.js';

/** Lifetime of tokens issued by the dev route. */
export const DEV_TOKEN_TTL_SEC = 24 * 3600;
/** Dev tokens one address may get at once. */
export const DEV_TOKEN_BURST = 10;
/** Dev tokens per second one address gets back after its burst (10 a minute). */
export const DEV_TOKEN_REFILL_PER_SEC = 10 / 60;
/** Addresses tracked before full buckets are forgotten. */
const MAX_TRACKED_ADDRESSES = 10_000;

interface Bucket {
  tokens: number;
  atMs: number;
}

/** A token bucket per client address: `burst` at once, `refillPerSec` sustained. */
export class AddressRateLimit {
  readonly #burst: number;
  readonly #refillPerSec: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(burst: number, refillPerSec: number) {
    this.#burst = burst;
    this.#refillPerSec = refillPerSec;
  }

  /** Takes a token for `address`; returns 0, or the milliseconds until one is back (nothing taken). */
  take(address: string, nowMs = Date.now()): number {
    let b = this.#buckets.get(address);
    if (b === undefined) {
      if (this.#buckets.size >= MAX_TRACKED_ADDRESSES) this.#forgetFull(nowMs);
      b = { tokens: this.#burst, atMs: nowMs };
      this.#buckets.set(address, b);
    }
    b.tokens = Math.min(this.#burst, b.tokens + ((nowMs - b.atMs) / 1000) * this.#refillPerSec);
    b.atMs = nowMs;
    if (b.tokens < 1) return Math.ceil(((1 - b.tokens) / this.#refillPerSec) * 1000);
    b.tokens -= 1;
    return 0;
  }

  #forgetFull(nowMs: number): void {
    for (const [address, b] of this.#buckets) {
      if (b.tokens + ((nowMs - b.atMs) / 1000) * this.#refillPerSec >= this.#burst) this.#buckets.delete(address);
    }
  }
}

/**
 * Adds `POST /dev/token` `{ "name": "Ada" }` → `{ token, user }`: signs a
 * full-access token for any name. Only in dev mode on the generated dev
 * secret (demo and local development), never in production. Rate-limited per
 * client address: `DEV_TOKEN_BURST` at once, then `DEV_TOKEN_REFILL_PER_SEC`;
 * beyond, 429 `rate_limited` with `Retry-After`.
 */
export function addDevTokenRoute(server: SynclineServer, secret: string): void {
  const limit = new AddressRateLimit(DEV_TOKEN_BURST, DEV_TOKEN_REFILL_PER_SEC);
  server.router.add('POST', '/dev/token', async (req, res) => {
    const waitMs = limit.take(clientAddress(req, 0));
    if (waitMs > 0) {
      req.resume();
      res.setHeader('retry-after', String(Math.ceil(waitMs / 1000)));
      throw new SynclineError('rate_limited', 'Too many dev tokens from this address.', { retryAfterMs: waitMs });
    }
    const body = await readBody(req, 4096);
    let name: unknown;
    try {
      name = (JSON.parse(body.toString('utf8')) as { name?: unknown }).name;
    } catch {
      throw new SynclineError('invalid_command', 'Body must be JSON: { "name": "…" }.');
    }
    if (typeof name !== 'string' || !/^[\p{L}\p{N} _.-]{1,32}$/u.test(name.trim())) {
      throw new SynclineError('invalid_command', 'name must be 1–32 letters, digits, spaces, "_", "." or "-".');
    }
    const user = name.trim();
    const token = await signToken(secret, {
      sub: user,
      caps: [{ match: '*', allow: ['*'] }],
      ttlSec: DEV_TOKEN_TTL_SEC,
      info: { name: user },
    });
    sendJson(res, 200, { token, user, expiresInSec: DEV_TOKEN_TTL_SEC });
  });
}
