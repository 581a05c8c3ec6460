import { weakSecretProblem } from '../auth/secret-strength.js';
import type { AuthOptions } from '../auth/token-verifier.js';

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

/** The problem with `auth` for this mode (one line), or undefined when there is none. */
export function authProblem(auth: AuthOptions | undefined, dev: boolean): string | undefined {
  if (auth === undefined) {
    return dev
      ? undefined
      : 'production mode needs the `auth` option in the config (secret, publicKey or jwks); for local development run `syncline start --dev`.';
  }
  return weakSecretProblem(auth);
}
