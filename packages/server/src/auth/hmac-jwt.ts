import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/** Hash of each HMAC algorithm. */
const HASHES: Readonly<Record<string, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/** Distinct protected headers remembered per verifier (an issuer uses one or a few). */
const HEADER_CACHE_SIZE = 64;
/** Longest encoded header remembered, characters. */
const HEADER_CACHE_MAX_LENGTH = 512;

/** Why a token was refused: `expired` maps to `token_expired`, anything else to `unauthorized`. */
export class HmacJwtError extends Error {
  readonly expired: boolean;
  constructor(message: string, expired = false) {
    super(message);
    this.name = 'HmacJwtError';
    this.expired = expired;
  }
}

/** Claim checks, as `jwtVerify` of jose applies them. */
export interface HmacJwtOptions {
  readonly clockToleranceSec: number;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
}

/**
 * Verifies compact JWS tokens signed with a shared secret (HS256/384/512)
 * synchronously, with node:crypto's HMAC on the calling thread.
 *
 * jose verifies HMAC through WebCrypto, which runs each signature as a job on
 * libuv's thread pool: a promise round trip per connection, worker threads
 * that grow malloc arenas (RSS per idle connection), and most of a
 * connection's CPU cost. This is the same check made in place; jose still
 * verifies public keys and JWKS, and signs. The accepted tokens and the
 * reasons for refusal match jose's (a parity test runs both on the same tokens),
 * with one deliberate difference: the signature must be the canonical
 * base64url encoding of the HMAC (jose also accepts a last character whose
 * unused trailing bits are set, so one signature would have several spellings).
 */
export class HmacJwtVerifier {
  readonly #key: KeyObject;
  readonly #options: HmacJwtOptions;
  /**
   * Hash of each protected header seen, by its exact encoded text. The
   * header's checks depend on its text alone (not on the payload, the
   * signature or the time), and the tokens of an issuer share one header:
   * it is decoded and checked once instead of on every connect. A header
   * is remembered only once a token carrying it verified (only the
   * secret's holders add entries), and only when short. Bounded.
   */
  readonly #headers = new Map<string, string>();

  constructor(secret: Uint8Array, options: HmacJwtOptions) {
    this.#key = createSecretKey(secret);
    this.#options = options;
  }

  /** The verified payload, or throws `HmacJwtError`. */
  verify(token: string): Record<string, unknown> {
    if (typeof token !== 'string') throw new HmacJwtError('Invalid Compact JWS');
    const dot1 = token.indexOf('.');
    const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 < 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) throw new HmacJwtError('Invalid Compact JWS');
    const encodedHeader = token.slice(0, dot1);
    const known = this.#headers.get(encodedHeader);
    const hash = known ?? hashOf(encodedHeader);

    // Compared on the canonical encoding: a signature whose last character
    // carries other (unused) trailing bits decodes to the same bytes, but is
    // a different token and is refused.
    const signature = Buffer.from(token.slice(dot2 + 1), 'utf8');
    const expected = Buffer.from(createHmac(hash, this.#key).update(token.slice(0, dot2)).digest('base64url'), 'utf8');
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new HmacJwtError('signature verification failed');
    }
    if (known === undefined && encodedHeader.length <= HEADER_CACHE_MAX_LENGTH) {
      if (this.#headers.size >= HEADER_CACHE_SIZE) this.#headers.clear();
      this.#headers.set(encodedHeader, hash);
    }
    const payload = parseSegment(token.slice(dot1 + 1, dot2), 'JWT Claims Set');
    this.#checkClaims(payload);
    return payload;
  }

  #checkClaims(p: Record<string, unknown>): void {
    const { clockToleranceSec: tolerance, issuer, audience } = this.#options;
    const now = Math.floor(Date.now() / 1000);
    if (p.iat !== undefined && !isNumericDate(p.iat)) throw new HmacJwtError('"iat" claim must be a number');
    if (p.nbf !== undefined) {
      if (!isNumericDate(p.nbf)) throw new HmacJwtError('"nbf" claim must be a number');
      if (p.nbf > now + tolerance) throw new HmacJwtError('"nbf" claim timestamp check failed');
    }
    if (p.exp !== undefined) {
      if (!isNumericDate(p.exp)) throw new HmacJwtError('"exp" claim must be a number');
      if (p.exp <= now - tolerance) throw new HmacJwtError('"exp" claim timestamp check failed', true);
    }
    if (issuer !== undefined && p.iss !== issuer) throw new HmacJwtError('unexpected "iss" claim value');
    if (audience !== undefined) {
      const aud = typeof p.aud === 'string' ? [p.aud] : p.aud;
      if (!Array.isArray(aud) || !aud.includes(audience)) throw new HmacJwtError('unexpected "aud" claim value');
    }
  }
}

/** The hash named by a protected header, or throws when the header is refused. */
function hashOf(encoded: string): string {
  const header = parseSegment(encoded, 'JWS Protected Header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !alg)
    throw new HmacJwtError('JWS "alg" (Algorithm) Header Parameter missing or invalid');
  if (header.crit !== undefined) {
    throw new HmacJwtError('Extension Header Parameter "crit" is not recognized');
  }
  if (header.b64 !== undefined && header.b64 !== true) throw new HmacJwtError('JWTs MUST NOT use unencoded payload');
  const hash = Object.hasOwn(HASHES, alg) ? HASHES[alg] : undefined;
  if (!hash) throw new HmacJwtError('"alg" (Algorithm) Header Parameter value not allowed');
  return hash;
}

function isNumericDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Strict base64url (no padding, no other characters), as JWS requires. */
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeSegment(s: string, what: string): Buffer {
  if (!BASE64URL.test(s) || s.length % 4 === 1) throw new HmacJwtError(`Failed to base64url decode the ${what}`);
  return Buffer.from(s, 'base64url');
}

function parseSegment(s: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decodeSegment(s, what).toString('utf8'));
  } catch (err) {
    if (err instanceof HmacJwtError) throw err;
    throw new HmacJwtError(`${what} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HmacJwtError(`${what} must be a top-level JSON object`);
  }
  return value as Record<string, unknown>;
}
