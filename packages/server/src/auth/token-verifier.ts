import { SynclineError } from '@syncline/protocol';
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  importSPKI,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { type Capability, type CompiledCapabilities, claimCapabilities } from './capabilities.js';
import { HmacJwtError, HmacJwtVerifier } from './hmac-jwt.js';

/** How connection tokens are verified. Give exactly one key source. */
export interface AuthOptions {
  /** Shared HMAC secret (HS256/HS384/HS512). */
  readonly secret?: string | Uint8Array;
  /** PEM public key (SPKI) for RS256/ES256/EdDSA …; `algorithm` names which. */
  readonly publicKey?: string;
  /** Algorithm of `publicKey` (e.g. `RS256`, `ES256`, `EdDSA`). */
  readonly algorithm?: string;
  /** JWKS endpoint URL; keys are fetched and cached by `kid`. */
  readonly jwksUrl?: string;
  /** An inline JWKS. */
  readonly jwks?: JSONWebKeySet;
  /** Required `iss`, when set. */
  readonly issuer?: string;
  /** Required `aud`, when set. */
  readonly audience?: string;
  /** Allowed clock skew, seconds (default 5). */
  readonly clockToleranceSec?: number;
}

/** Who is on a connection, from a verified token. */
export interface Principal {
  readonly user: string;
  /** Expiry, ms since the epoch (undefined: the token never expires). */
  readonly expiresAt: number | undefined;
  /**
   * How long past `expiresAt` the token is still accepted (the verifier's
   * clock tolerance), ms. A session stays open until `expiresAt + graceMs`,
   * so a token accepted within the tolerance is not closed the moment it connects.
   */
  readonly graceMs?: number;
  /** Issued-at, ms since the epoch (0 when absent). */
  readonly issuedAt: number;
  readonly capabilities: readonly Capability[];
  readonly can: CompiledCapabilities;
  /** Extra info claim, passed to presence and hooks. */
  readonly info: unknown;
}

/** Verifies JWTs into principals. */
export interface TokenVerifier {
  /** Resolves the principal or rejects with `unauthorized` / `token_expired`. */
  verify(token: string): Promise<Principal>;
}

type KeySource = Uint8Array | CryptoKey | JWTVerifyGetKey;

/**
 * Builds a verifier from options. Shared-secret tokens are verified in place
 * with node:crypto (`HmacJwtVerifier`); public keys and JWKS through jose.
 */
export function createTokenVerifier(options: AuthOptions): TokenVerifier {
  const clockTolerance = options.clockToleranceSec ?? 5;
  const toPrincipal = (payload: JWTPayload): Principal => principalOf(payload, clockTolerance * 1000);
  if (options.secret !== undefined) {
    const secret = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
    const hmac = new HmacJwtVerifier(secret, {
      clockToleranceSec: clockTolerance,
      issuer: options.issuer,
      audience: options.audience,
    });
    return {
      async verify(token) {
        let payload: JWTPayload;
        try {
          payload = hmac.verify(token);
        } catch (err) {
          if (err instanceof HmacJwtError && err.expired) {
            throw new SynclineError('token_expired', 'The token has expired.', { cause: err });
          }
          throw invalidToken(err);
        }
        return toPrincipal(payload);
      },
    };
  }

  let keyPromise: Promise<KeySource>;
  let algorithms: string[] | undefined;
  if (options.publicKey !== undefined) {
    const alg = options.algorithm ?? 'RS256';
    keyPromise = importSPKI(options.publicKey, alg);
    algorithms = [alg];
  } else if (options.jwksUrl !== undefined) {
    keyPromise = Promise.resolve(createRemoteJWKSet(new URL(options.jwksUrl)));
  } else if (options.jwks !== undefined) {
    keyPromise = Promise.resolve(createLocalJWKSet(options.jwks));
  } else {
    throw new SynclineError('internal', 'auth: one of secret, publicKey, jwksUrl or jwks is required');
  }
  keyPromise.catch(() => undefined);
  const verifyOptions = {
    clockTolerance,
    ...(algorithms ? { algorithms } : {}),
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };

  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        const key = await keyPromise;
        const res =
          typeof key === 'function'
            ? await jwtVerify(token, key, verifyOptions)
            : await jwtVerify(token, key, verifyOptions);
        payload = res.payload;
      } catch (err) {
        if (err instanceof errors.JWTExpired)
          throw new SynclineError('token_expired', 'The token has expired.', { cause: err });
        throw invalidToken(err);
      }
      return toPrincipal(payload);
    },
  };
}

function invalidToken(err: unknown): SynclineError {
  return new SynclineError('unauthorized', `Invalid token: ${err instanceof Error ? err.message : String(err)}`, {
    cause: err,
  });
}

/** The principal of a verified payload, or `unauthorized` when its Syncline claims are malformed. */
function principalOf(payload: JWTPayload, graceMs: number): Principal {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 200) {
    throw new SynclineError('unauthorized', 'The token has no valid "sub" claim.');
  }
  const shared = claimCapabilities(payload.caps);
  if (!shared) throw new SynclineError('unauthorized', 'The token\'s "caps" claim is malformed.');
  return {
    user: payload.sub,
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    graceMs,
    issuedAt: typeof payload.iat === 'number' ? payload.iat * 1000 : 0,
    capabilities: shared.capabilities,
    can: shared.can,
    info: payload.info,
  };
}
