import type { AuthOptions } from '../auth/token-verifier.js';

/** Shortest shared secret accepted in production: HS256's own output size (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 32;

/** Interface dev mode listens on unless `--host` says otherwise. */
export const DEV_HOST = '127.0.0.1';

/**
 * Whether `syncline start` runs in dev mode: on with `--dev` or
 * `NODE_ENV=development`, off otherwise (production rules by default).
 * Throws when `--dev` meets `NODE_ENV=production`: a production deployment
 * must never hand out dev tokens by a stray flag.
 */
export function resolveDevMode(flag: boolean, env: NodeJS.ProcessEnv): boolean {
  const nodeEnv = env.NODE_ENV;
  if (flag && nodeEnv === 'production') {
    throw new Error('--dev conflicts with NODE_ENV=production; drop one of them.');
  }
  return flag || nodeEnv === 'development';
}

/** Length in bytes of a shared secret, or undefined when `auth` uses no shared secret. */
export function sharedSecretBytes(auth: AuthOptions | undefined): number | undefined {
  const secret = auth?.secret;
  if (secret === undefined) return undefined;
  return typeof secret === 'string' ? Buffer.byteLength(secret, 'utf8') : secret.byteLength;
}

/** The problem with `auth` for this mode (one line), or undefined when there is none. */
export function authProblem(auth: AuthOptions | undefined, dev: boolean): string | undefined {
  if (auth === undefined) {
    return dev
      ? undefined
      : 'production mode needs the `auth` option in the config (secret, publicKey or jwks); for local development run `syncline start --dev`.';
  }
  const bytes = sharedSecretBytes(auth);
  if (bytes !== undefined && bytes < MIN_SECRET_BYTES) {
    return `the \`auth\` secret is ${bytes} bytes; use at least ${MIN_SECRET_BYTES} random bytes (e.g. \`openssl rand -base64 32\`).`;
  }
  return undefined;
}
