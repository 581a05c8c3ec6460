import type { AuthOptions } from './token-verifier.js';

/** Shortest shared secret accepted in production: HS256's own output size (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 32;

/** Length in bytes of a shared secret, or undefined when `auth` uses no shared secret. */
export function sharedSecretBytes(auth: AuthOptions | undefined): number | undefined {
  const secret = auth?.secret;
  if (secret === undefined) return undefined;
  return typeof secret === 'string' ? Buffer.byteLength(secret, 'utf8') : secret.byteLength;
}

/** One line saying why a shared secret is too short, or undefined when it is long enough (or there is none). */
export function weakSecretProblem(auth: AuthOptions | undefined): string | undefined {
  const bytes = sharedSecretBytes(auth);
  if (bytes === undefined || bytes >= MIN_SECRET_BYTES) return undefined;
  return `the \`auth\` secret is ${bytes} bytes; use at least ${MIN_SECRET_BYTES} random bytes (e.g. \`openssl rand -base64 32\`).`;
}
