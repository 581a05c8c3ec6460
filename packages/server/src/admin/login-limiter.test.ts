import { SynclineError } from '@syncline/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryWindowCounters, type WindowCount, type WindowCounters } from '../cluster/window-counters.js';
import { ADMIN_LOGIN_FAILURES_GLOBAL, ADMIN_LOGIN_FAILURES_PER_IP, ADMIN_LOGIN_WINDOW_MS } from './admin-options.js';
import { LoginLimiter } from './login-limiter.js';

/** A logger whose lines land in `lines`. */
function capturingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** Shared counters that are down: every call rejects as Redis's would when it cannot be reached. */
const down: WindowCounters = {
  hit: () => Promise.reject(new SynclineError('unavailable', 'The message broker is unavailable; retry shortly.')),
  peek: () => Promise.reject(new SynclineError('unavailable', 'The message broker is unavailable; retry shortly.')),
};

/** Shared counters that never answer (Redis paused). */
const hanging: WindowCounters = {
  hit: () => new Promise<WindowCount>(() => undefined),
  peek: () => new Promise<WindowCount | undefined>(() => undefined),
};

describe('sign-in limiter', () => {
  it('closes an address after its failures and everyone after the global count, until the window ends', async () => {
    let now = 0;
    const limiter = new LoginLimiter({ now: () => now });
    for (let i = 0; i < ADMIN_LOGIN_FAILURES_PER_IP; i++) await limiter.failed('a');
    expect(await limiter.retryAfterMs('a')).toBe(ADMIN_LOGIN_WINDOW_MS);
    expect(await limiter.retryAfterMs('b')).toBe(0);
    for (let i = ADMIN_LOGIN_FAILURES_PER_IP; i < ADMIN_LOGIN_FAILURES_GLOBAL; i++) await limiter.failed(`ip-${i}`);
    expect(await limiter.retryAfterMs('b')).toBeGreaterThan(0);
    now += ADMIN_LOGIN_WINDOW_MS;
    expect(await limiter.retryAfterMs('a')).toBe(0);
    expect(await limiter.retryAfterMs('b')).toBe(0);
  });

  it('counts the failures of every node sharing the counters, with the time left the store says', async () => {
    const shared = new MemoryWindowCounters();
    const a = new LoginLimiter({ shared });
    const b = new LoginLimiter({ shared });
    for (let i = 0; i < ADMIN_LOGIN_FAILURES_PER_IP - 1; i++) await (i % 2 ? a : b).failed('10.0.0.1');
    expect(await a.retryAfterMs('10.0.0.1')).toBe(0);
    await b.failed('10.0.0.1');
    // Node a saw two of the five failures itself; the shared count closes the address there too.
    const wait = await a.retryAfterMs('10.0.0.1');
    expect(wait).toBeGreaterThan(ADMIN_LOGIN_WINDOW_MS - 5_000);
    expect(wait).toBeLessThanOrEqual(ADMIN_LOGIN_WINDOW_MS);
    expect(await a.retryAfterMs('10.0.0.2')).toBe(0);
  });

  it("falls back to the node's own count when the shared counters are down, and warns (not on every call)", async () => {
    const { logger, lines } = capturingLogger();
    const now = Date.now();
    const limiter = new LoginLimiter({ shared: down, logger, now: () => now });
    expect(await limiter.retryAfterMs('a')).toBe(0);
    for (let i = 0; i < ADMIN_LOGIN_FAILURES_PER_IP; i++) await limiter.failed('a');
    // The node's own count still closes the address: neither open to everyone nor closed to everyone.
    expect(await limiter.retryAfterMs('a')).toBe(ADMIN_LOGIN_WINDOW_MS);
    expect(await limiter.retryAfterMs('b')).toBe(0);
    const warnings = lines.filter((l) => l.msg.includes('sign-in failure counts are unreachable'));
    expect(warnings.map((l) => l.level)).toEqual([40]);
  });

  it('does not wait on shared counters that hang longer than its wait', async () => {
    let now = 0;
    const limiter = new LoginLimiter({ shared: hanging, sharedWaitMs: 50, now: () => now });
    const started = Date.now();
    for (let i = 0; i < ADMIN_LOGIN_FAILURES_PER_IP; i++) await limiter.failed('a');
    expect(await limiter.retryAfterMs('a')).toBe(ADMIN_LOGIN_WINDOW_MS);
    // Six calls, each given up after 50 ms (not the store's own, longer timeout).
    expect(Date.now() - started).toBeLessThan(2_000);
    now += ADMIN_LOGIN_WINDOW_MS;
    expect(await limiter.retryAfterMs('a')).toBe(0);
  });

  it('keeps the stricter of its own and the shared count (failures counted while the store was down still count)', async () => {
    let up = false;
    const store = new MemoryWindowCounters();
    const flaky: WindowCounters = {
      hit: (key, windowMs) => (up ? store.hit(key, windowMs) : down.hit(key, windowMs)),
      peek: (key) => (up ? store.peek(key) : down.peek(key)),
    };
    const limiter = new LoginLimiter({ shared: flaky });
    for (let i = 0; i < ADMIN_LOGIN_FAILURES_PER_IP; i++) await limiter.failed('a');
    up = true;
    // The store counted none of them, the node all five.
    expect(await store.peek('admin-login:ip:a')).toBeUndefined();
    expect(await limiter.retryAfterMs('a')).toBeGreaterThan(0);
  });

  it('hashes an address too long for a key (only a forged forwarding header gives one)', async () => {
    const store = new MemoryWindowCounters();
    const limiter = new LoginLimiter({ shared: store });
    const forged = 'x'.repeat(5_000);
    for (let i = 0; i < ADMIN_LOGIN_FAILURES_PER_IP; i++) await limiter.failed(forged);
    expect(await limiter.retryAfterMs(forged)).toBeGreaterThan(0);
    expect(await store.peek(`admin-login:ip:${forged}`)).toBeUndefined();
    expect((await store.peek('admin-login:all'))?.count).toBe(ADMIN_LOGIN_FAILURES_PER_IP);
  });
});

describe('memory window counters', () => {
  it('count within a window, forget a key when it ends, and report the time left', async () => {
    let now = 1_000;
    const c = new MemoryWindowCounters({ now: () => now });
    expect(await c.hit('k', 100)).toEqual({ count: 1, remainingMs: 100 });
    now += 40;
    expect(await c.hit('k', 100)).toEqual({ count: 2, remainingMs: 60 });
    expect(await c.peek('k')).toEqual({ count: 2, remainingMs: 60 });
    now += 60;
    expect(await c.peek('k')).toBeUndefined();
    expect(await c.hit('k', 100)).toEqual({ count: 1, remainingMs: 100 });
  });

  it('keep at most maxKeys windows: ended ones go first, then the oldest opened', () => {
    let now = 0;
    const c = new MemoryWindowCounters({ now: () => now, maxKeys: 3 });
    c.hitNow('short', 10);
    c.hitNow('a', 1_000);
    c.hitNow('b', 1_000);
    now = 20;
    c.hitNow('c', 1_000);
    expect(c.size).toBe(3);
    expect(c.peekNow('a')?.count).toBe(1);
    c.hitNow('d', 1_000);
    expect(c.size).toBe(3);
    expect(c.peekNow('a')).toBeUndefined();
    expect([c.peekNow('b')?.count, c.peekNow('c')?.count, c.peekNow('d')?.count]).toEqual([1, 1, 1]);
  });
});
