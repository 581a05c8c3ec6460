import { randomBytes } from 'node:crypto';
import { ADMIN_SESSION_TTL_MS, ADMIN_TOKEN_TTL_MS } from './admin-options.js';
import { AdminSessionLedger } from './admin-session-ledger.js';
import { AdminKeys } from './admin-signing.js';

export { sameSecret } from './admin-signing.js';

/** A signed-in console session, as read from its cookie (any node of the cluster can read it). */
export interface AdminSession {
  /** The cookie's value: `<sid>.<signed in>.<expires>.<signature>`. */
  readonly id: string;
  /** The session's random id (in the cookie, its tokens and the ledger). */
  readonly sid: string;
  /** Short id for logs (never enough to use the session). */
  readonly tag: string;
  /** Token required in the CSRF header on every write (derived from `sid` with a key of the admin key). */
  readonly csrf: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** A console connection token, checked: whose session, and until when. */
export interface AdminToken {
  readonly sid: string;
  readonly tag: string;
  /** Sign-in time of its session. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** Prefix of console connection tokens (never a JWT: no app signer can make one). */
export const ADMIN_TOKEN_PREFIX = 'sla_';

/** Longest cookie or token value looked at, characters (a real one is under 110). */
const MAX_SIGNED_LENGTH = 200;
const SID = /^[A-Za-z0-9_-]{22}$/;
const TIME = /^[0-9]{1,15}$/;

/** The parts of a signed value `<sid>.<at>.<exp>.<mac>`, when it is well formed and its signature holds. */
function unpack(
  keys: AdminKeys,
  use: 'session' | 'token',
  value: string,
): { sid: string; at: number; exp: number } | undefined {
  if (value.length > MAX_SIGNED_LENGTH) return undefined;
  const parts = value.split('.');
  if (parts.length !== 4) return undefined;
  const [sid, at, exp, mac] = parts as [string, string, string, string];
  if (!SID.test(sid) || !TIME.test(at) || !TIME.test(exp)) return undefined;
  if (!keys.verify(use, `${use}.${sid}.${at}.${exp}`, mac)) return undefined;
  return { sid, at: Number(at), exp: Number(exp) };
}

/**
 * Console sessions and their connection tokens, usable on every node of a
 * cluster without sticky routing: a session cookie and a token are values
 * signed with keys derived from the admin key (HMAC-SHA256), carrying the
 * session id, its sign-in time and expiry; the CSRF token is derived from
 * the session id. Any node with the same admin key checks them without
 * asking another.
 *
 * What ends a session before its expiry is kept in an
 * {@link AdminSessionLedger}: sign-out, and the newest
 * {@link MAX_ADMIN_SESSIONS} sign-ins pushing older ones out. Sessions last
 * {@link ADMIN_SESSION_TTL_MS}; tokens {@link ADMIN_TOKEN_TTL_MS}, never past
 * their session, and end with it. Changing the admin key ends them all.
 */
export class AdminSessions {
  readonly #adminKey: string;
  #keys: AdminKeys;
  readonly #now: () => number;
  readonly #listeners = new Set<() => void>();
  /** Which validly signed sessions have ended (shared with the other nodes by `AdminSessionSync`). */
  readonly ledger: AdminSessionLedger;

  constructor(adminKey: string, now: () => number = Date.now) {
    this.#adminKey = adminKey;
    this.#keys = new AdminKeys(adminKey);
    this.#now = now;
    this.ledger = new AdminSessionLedger(now);
  }

  /** The keys derived from the admin key. */
  get keys(): AdminKeys {
    return this.#keys;
  }

  /**
   * Signs with keys of this process alone (before any sign-in): for a node
   * that keeps no ledger across restarts and has no peers, so a restart
   * ends every session, as it always did.
   */
  forThisProcessOnly(): void {
    this.#keys = new AdminKeys(this.#adminKey, randomBytes(32).toString('base64url'));
  }

  /** Calls `listener` after each change of the ledger made here (sign-in, sign-out, a session learned). */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Opens a session. */
  create(): AdminSession {
    const at = this.#now();
    const sid = randomBytes(16).toString('base64url');
    const exp = at + ADMIN_SESSION_TTL_MS;
    this.ledger.signedIn(sid, at, exp);
    this.#changed();
    return this.#session(
      sid,
      at,
      exp,
      `${sid}.${at}.${exp}.${this.#keys.sign('session', `session.${sid}.${at}.${exp}`)}`,
    );
  }

  /** The live session of a cookie value, if any (well formed, signed with this admin key, unexpired, not ended). */
  get(cookie: string | undefined): AdminSession | undefined {
    if (cookie === undefined) return undefined;
    const v = unpack(this.#keys, 'session', cookie);
    if (!v || v.exp - v.at > ADMIN_SESSION_TTL_MS || !this.#live(v.sid, v.at, v.exp)) return undefined;
    return this.#session(v.sid, v.at, v.exp, cookie);
  }

  /** Ends a session (here; `AdminSessionSync` tells the other nodes). */
  end(session: AdminSession): void {
    this.ledger.end(session.sid, session.createdAt, session.expiresAt);
    this.#changed();
  }

  /** Mints a connection token for a session (valid {@link ADMIN_TOKEN_TTL_MS}, never past the session). */
  mintToken(session: AdminSession): { token: string; expiresAt: number } {
    const exp = Math.min(this.#now() + ADMIN_TOKEN_TTL_MS, session.expiresAt);
    const { sid, createdAt: at } = session;
    const mac = this.#keys.sign('token', `token.${sid}.${at}.${exp}`);
    return { token: `${ADMIN_TOKEN_PREFIX}${sid}.${at}.${exp}.${mac}`, expiresAt: exp };
  }

  /** The live token, if any (well formed, signed, unexpired, its session not ended). */
  token(token: string): AdminToken | undefined {
    if (!token.startsWith(ADMIN_TOKEN_PREFIX)) return undefined;
    const v = unpack(this.#keys, 'token', token.slice(ADMIN_TOKEN_PREFIX.length));
    const now = this.#now();
    if (!v || v.exp <= now || v.exp - now > ADMIN_TOKEN_TTL_MS) return undefined;
    // A session expires a fixed time after its sign-in (the expiry its cookie carries).
    if (!this.#live(v.sid, v.at, v.at + ADMIN_SESSION_TTL_MS)) return undefined;
    return { sid: v.sid, tag: v.sid.slice(0, 8), issuedAt: v.at, expiresAt: v.exp };
  }

  /** Whether the session signed in at `at` still counts (for connections opened with its tokens). */
  isLive(sid: string, at: number): boolean {
    return this.#live(sid, at, at + ADMIN_SESSION_TTL_MS);
  }

  #live(sid: string, at: number, exp: number): boolean {
    const known = this.ledger.knows(sid);
    const live = this.ledger.isLive(sid, at, exp);
    if (!known && this.ledger.knows(sid)) this.#changed();
    return live;
  }

  #session(sid: string, at: number, exp: number, id: string): AdminSession {
    return { id, sid, tag: sid.slice(0, 8), csrf: this.#keys.sign('csrf', sid), createdAt: at, expiresAt: exp };
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }
}
