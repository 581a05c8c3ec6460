import { MAX_ADMIN_SESSIONS } from './admin-options.js';

/** One console sign-in as the ledger knows it. */
export interface LedgerEntry {
  /** The session's random id. */
  readonly sid: string;
  /** Sign-in time, ms since the epoch. */
  readonly at: number;
  /** Expiry, ms since the epoch. */
  readonly exp: number;
  /** Signed out. */
  readonly ended: boolean;
}

/** The ledger as nodes exchange and store it. */
export interface LedgerState {
  /** Sessions signed in at or before this (sign-in time, then id) have ended; null when none was pushed out. */
  readonly floor: { readonly at: number; readonly sid: string } | null;
  /** The newest sign-ins (at most {@link MAX_ADMIN_SESSIONS}). */
  readonly sessions: readonly LedgerEntry[];
}

type Key = { readonly at: number; readonly sid: string };

/** Orders sessions by sign-in time, then id (so every node orders equal times the same way). */
function compare(a: Key, b: Key): number {
  if (a.at !== b.at) return a.at - b.at;
  return a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0;
}

/**
 * Which console sessions have ended, in bounded memory. Sessions themselves
 * are signed cookies any node can check; the ledger only says which of the
 * validly signed ones no longer count:
 *
 * - it keeps the newest {@link MAX_ADMIN_SESSIONS} sign-ins (ended or not);
 *   one more pushes the oldest out and raises the *floor* to it: every
 *   session signed in at or before the floor has ended;
 * - a signed-out session stays listed, marked ended, until it is pushed out
 *   (then the floor covers it) or expires (then its cookie does).
 *
 * Contract: `merge` is commutative, associative and idempotent (a session
 * once ended stays ended; the floor only rises), so nodes that exchange
 * their states in any order, with repeats, agree once each has heard the
 * others' latest. A session the ledger never heard of but signed after the
 * floor counts as live, and is learned.
 */
export class AdminSessionLedger {
  readonly #sessions = new Map<string, LedgerEntry>();
  #floor: Key | null = null;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Sessions listed (ended or not, unexpired ones). */
  get size(): number {
    this.#dropExpired();
    return this.#sessions.size;
  }

  /** Whether the session is listed (ended or not). */
  knows(sid: string): boolean {
    return this.#sessions.has(sid);
  }

  /** Whether the session signed in at `at` still counts (learns it when unknown); false once expired. */
  isLive(sid: string, at: number, exp: number): boolean {
    if (exp <= this.#now() || this.#belowFloor({ at, sid })) return false;
    const known = this.#sessions.get(sid);
    if (known) return !known.ended && known.at === at;
    this.#add({ sid, at, exp, ended: false });
    return this.#sessions.has(sid);
  }

  /** Records a sign-in (pushing the oldest out past the bound). */
  signedIn(sid: string, at: number, exp: number): void {
    this.#add({ sid, at, exp, ended: false });
  }

  /** Records a sign-out. */
  end(sid: string, at: number, exp: number): void {
    this.#add({ sid, at, exp, ended: true });
  }

  /** The state to send to other nodes or to store. */
  state(): LedgerState {
    this.#dropExpired();
    return { floor: this.#floor, sessions: [...this.#sessions.values()].sort(compare) };
  }

  /** Merges another node's (or the stored) state; true when it changed this ledger. */
  merge(other: LedgerState): boolean {
    const before = JSON.stringify(this.state());
    if (other.floor && !this.#belowFloor(other.floor)) this.#raiseFloor(other.floor);
    for (const e of other.sessions) this.#add(e);
    return JSON.stringify(this.state()) !== before;
  }

  #belowFloor(key: Key): boolean {
    return this.#floor !== null && compare(key, this.#floor) <= 0;
  }

  #raiseFloor(key: Key): void {
    this.#floor = { at: key.at, sid: key.sid };
    for (const e of [...this.#sessions.values()]) if (this.#belowFloor(e)) this.#sessions.delete(e.sid);
  }

  #add(e: LedgerEntry): void {
    if (e.exp <= this.#now() || this.#belowFloor(e)) return;
    const known = this.#sessions.get(e.sid);
    if (known && known.at === e.at) {
      if (e.ended && !known.ended) this.#sessions.set(e.sid, { ...known, ended: true });
      return;
    }
    if (known) return; // Same id, another sign-in time: not a session any node signed; keep the first.
    this.#sessions.set(e.sid, { sid: e.sid, at: e.at, exp: e.exp, ended: e.ended });
    this.#dropExpired();
    while (this.#sessions.size > MAX_ADMIN_SESSIONS) {
      let oldest: LedgerEntry | undefined;
      for (const s of this.#sessions.values()) if (!oldest || compare(s, oldest) < 0) oldest = s;
      this.#raiseFloor(oldest as LedgerEntry);
    }
  }

  #dropExpired(): void {
    const now = this.#now();
    for (const [sid, e] of this.#sessions) if (e.exp <= now) this.#sessions.delete(sid);
  }
}
