import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  ADMIN_SESSION_TTL_MS,
  ADMIN_TOKEN_TTL_MS,
  MAX_ADMIN_SESSIONS,
  MAX_ADMIN_TOKENS_PER_SESSION,
} from './admin-options.js';

/** A signed-in console session (kept in memory on the node that signed it in). */
export interface AdminSession {
  /** Opaque id, the cookie's value. */
  readonly id: string;
  /** Short id for logs (never enough to use the session). */
  readonly tag: string;
  /** Token required in the CSRF header on every write. */
  readonly csrf: string;
  /** Client address at sign-in. */
  readonly ip: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Connection tokens minted for this session, oldest first. */
  readonly tokens: string[];
}

/** A console connection token: whose, and until when. */
export interface AdminToken {
  readonly session: AdminSession;
  readonly expiresAt: number;
}

/** Prefix of console connection tokens (never a JWT: no app signer can make one). */
export const ADMIN_TOKEN_PREFIX = 'sla_';

/** Constant-time comparison of two strings. */
export function sameSecret(given: string, want: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  if (a.length === b.length) return timingSafeEqual(a, b);
  // Compare against itself on a length mismatch, so the time does not depend on the given length.
  timingSafeEqual(b, b);
  return false;
}

/**
 * The node's console sessions and their connection tokens: bounded in count
 * (the oldest session ends when one more signs in) and in time (each ends
 * {@link ADMIN_SESSION_TTL_MS} after sign-in; tokens after
 * {@link ADMIN_TOKEN_TTL_MS}, and with their session).
 */
export class AdminSessions {
  readonly #sessions = new Map<string, AdminSession>();
  readonly #tokens = new Map<string, AdminToken>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Number of live sessions. */
  get size(): number {
    this.#sweep();
    return this.#sessions.size;
  }

  /** Opens a session for a client address. */
  create(ip: string): AdminSession {
    this.#sweep();
    while (this.#sessions.size >= MAX_ADMIN_SESSIONS) {
      const oldest = this.#sessions.values().next().value as AdminSession;
      this.end(oldest.id);
    }
    const now = this.#now();
    const id = randomBytes(32).toString('base64url');
    const session: AdminSession = {
      id,
      tag: id.slice(0, 8),
      csrf: randomBytes(24).toString('base64url'),
      ip,
      createdAt: now,
      expiresAt: now + ADMIN_SESSION_TTL_MS,
      tokens: [],
    };
    this.#sessions.set(id, session);
    return session;
  }

  /** The live session with this id, if any. */
  get(id: string | undefined): AdminSession | undefined {
    if (id === undefined) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.#now()) {
      this.end(id);
      return undefined;
    }
    return s;
  }

  /** Ends a session and its tokens; false when there was none. */
  end(id: string): boolean {
    const s = this.#sessions.get(id);
    if (!s) return false;
    for (const t of s.tokens) this.#tokens.delete(t);
    this.#sessions.delete(id);
    return true;
  }

  /** Mints a connection token for a session (its oldest token ends past the per-session bound). */
  mintToken(session: AdminSession): { token: string; expiresAt: number } {
    while (session.tokens.length >= MAX_ADMIN_TOKENS_PER_SESSION) {
      this.#tokens.delete(session.tokens.shift() as string);
    }
    const token = `${ADMIN_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = Math.min(this.#now() + ADMIN_TOKEN_TTL_MS, session.expiresAt);
    session.tokens.push(token);
    this.#tokens.set(token, { session, expiresAt });
    return { token, expiresAt };
  }

  /** The live token, if any (its session still live). */
  token(token: string): AdminToken | undefined {
    const t = this.#tokens.get(token);
    if (!t) return undefined;
    if (t.expiresAt <= this.#now() || this.get(t.session.id) === undefined) {
      this.#tokens.delete(token);
      return undefined;
    }
    return t;
  }

  /** Drops expired sessions (in sign-in order, so the first live one stops the scan). */
  #sweep(): void {
    const now = this.#now();
    for (const s of this.#sessions.values()) {
      if (s.expiresAt > now) break;
      this.end(s.id);
    }
  }
}
