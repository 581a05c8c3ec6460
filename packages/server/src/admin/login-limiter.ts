import { ADMIN_LOGIN_FAILURES_GLOBAL, ADMIN_LOGIN_FAILURES_PER_IP, ADMIN_LOGIN_WINDOW_MS } from './admin-options.js';

/** Client addresses tracked at once; past it the table starts over (the global limit still holds). */
const MAX_TRACKED_ADDRESSES = 10_000;

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Counts failed console sign-ins per client address and over all of them,
 * in fixed windows of {@link ADMIN_LOGIN_WINDOW_MS}. Past either limit every
 * sign-in from there (even with the right key) is refused until the window ends.
 */
export class LoginLimiter {
  readonly #byIp = new Map<string, Window>();
  readonly #global: Window = { count: 0, resetAt: 0 };
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Milliseconds until this address may try again, or 0 when it may now. */
  retryAfterMs(ip: string): number {
    const now = this.#now();
    const w = this.#byIp.get(ip);
    let wait = 0;
    if (w && w.resetAt > now && w.count >= ADMIN_LOGIN_FAILURES_PER_IP) wait = w.resetAt - now;
    if (this.#global.resetAt > now && this.#global.count >= ADMIN_LOGIN_FAILURES_GLOBAL) {
      wait = Math.max(wait, this.#global.resetAt - now);
    }
    return wait;
  }

  /** Records a failed sign-in from an address. */
  failed(ip: string): void {
    const now = this.#now();
    if (this.#byIp.size >= MAX_TRACKED_ADDRESSES && !this.#byIp.has(ip)) this.#byIp.clear();
    const w = this.#byIp.get(ip);
    if (!w || w.resetAt <= now) this.#byIp.set(ip, { count: 1, resetAt: now + ADMIN_LOGIN_WINDOW_MS });
    else w.count++;
    if (this.#global.resetAt <= now) {
      this.#global.count = 0;
      this.#global.resetAt = now + ADMIN_LOGIN_WINDOW_MS;
    }
    this.#global.count++;
  }
}
