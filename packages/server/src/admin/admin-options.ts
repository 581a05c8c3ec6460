/** Options of the operator console (`ServerOptions.admin`); see docs/admin.md. */
export interface AdminOptions {
  /**
   * The admin key: signs an operator in at `/admin` (at least
   * {@link MIN_ADMIN_KEY_BYTES} bytes in production). Without it the console
   * and its routes do not exist (404).
   */
  readonly key: string;
}

/** Shortest admin key accepted in production, bytes (as the shared secret's rule). */
export const MIN_ADMIN_KEY_BYTES = 32;
/** Longest admin key, bytes. */
export const MAX_ADMIN_KEY_BYTES = 512;
/**
 * Most console sessions of a cluster (of a node, alone): the newest sign-ins
 * by sign-in time count; signing in past it ends the oldest one, on every node.
 */
export const MAX_ADMIN_SESSIONS = 32;
/** How long a console session lasts after sign-in, ms (8 h; then sign in again). */
export const ADMIN_SESSION_TTL_MS = 8 * 60 * 60_000;
/** How long a console connection token is valid, ms (the console fetches a new one before it expires). */
export const ADMIN_TOKEN_TTL_MS = 5 * 60_000;
/** Failed sign-ins one client address may make per window before it gets 429. */
export const ADMIN_LOGIN_FAILURES_PER_IP = 5;
/** Failed sign-ins from all addresses together per window before everyone gets 429. */
export const ADMIN_LOGIN_FAILURES_GLOBAL = 50;
/** Window of the sign-in limits, ms. */
export const ADMIN_LOGIN_WINDOW_MS = 60_000;
/** Largest sign-in request body, bytes. */
export const ADMIN_LOGIN_MAX_BODY_BYTES = 2_048;
/** Name of the console's session cookie. */
export const ADMIN_COOKIE = 'syncline_admin';
/** Header carrying a session's CSRF token on every write (anything but GET and HEAD). */
export const ADMIN_CSRF_HEADER = 'x-syncline-csrf';
/** The internal namespace the console subscribes to; no app token reaches it. */
export const ADMIN_NAMESPACE = 'syncline-admin';
/** The channel every node publishes its overview snapshot to. */
export const ADMIN_OVERVIEW_CHANNEL = `${ADMIN_NAMESPACE}:overview`;
/** User id of console connections. */
export const ADMIN_USER = 'syncline-admin';

/** One line saying why an admin key is unacceptable, or undefined when it is fine. */
export function adminKeyProblem(key: unknown, dev: boolean): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'the `admin.key` option must be a non-empty string.';
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_ADMIN_KEY_BYTES) return `the \`admin\` key is ${bytes} bytes; at most ${MAX_ADMIN_KEY_BYTES}.`;
  if (!dev && bytes < MIN_ADMIN_KEY_BYTES) {
    return `the \`admin\` key is ${bytes} bytes; use at least ${MIN_ADMIN_KEY_BYTES} random bytes (e.g. \`openssl rand -base64 32\`).`;
  }
  return undefined;
}
