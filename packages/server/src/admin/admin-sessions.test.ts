import { describe, expect, it } from 'vitest';
import {
  ADMIN_LOGIN_FAILURES_GLOBAL,
  ADMIN_LOGIN_FAILURES_PER_IP,
  ADMIN_LOGIN_WINDOW_MS,
  ADMIN_SESSION_TTL_MS,
  ADMIN_TOKEN_TTL_MS,
  adminKeyProblem,
  MAX_ADMIN_SESSIONS,
  MAX_ADMIN_TOKENS_PER_SESSION,
} from './admin-options.js';
import { AdminSessions, sameSecret } from './admin-sessions.js';
import { LoginLimiter } from './login-limiter.js';
import { p99Ms } from './overview-metrics.js';

describe('console sessions', () => {
  it('end after their lifetime, and the oldest ends past the count bound', () => {
    let now = 1_000;
    const sessions = new AdminSessions(() => now);
    const first = sessions.create('10.0.0.1');
    for (let i = 1; i < MAX_ADMIN_SESSIONS; i++) sessions.create('10.0.0.1');
    expect(sessions.size).toBe(MAX_ADMIN_SESSIONS);
    const newest = sessions.create('10.0.0.2');
    expect(sessions.size).toBe(MAX_ADMIN_SESSIONS);
    expect(sessions.get(first.id)).toBeUndefined();
    now += ADMIN_SESSION_TTL_MS;
    expect(sessions.get(newest.id)).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  it('tokens expire, are bounded per session, and end with it', () => {
    let now = 0;
    const sessions = new AdminSessions(() => now);
    const s = sessions.create('10.0.0.1');
    const tokens = Array.from({ length: MAX_ADMIN_TOKENS_PER_SESSION + 1 }, () => sessions.mintToken(s).token);
    expect(sessions.token(tokens[0] as string)).toBeUndefined();
    expect(sessions.token(tokens[1] as string)?.session).toBe(s);
    now += ADMIN_TOKEN_TTL_MS;
    expect(sessions.token(tokens[1] as string)).toBeUndefined();
    const fresh = sessions.mintToken(s).token;
    sessions.end(s.id);
    expect(sessions.token(fresh)).toBeUndefined();
  });

  it('compares secrets of any length without throwing', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abd', 'abc')).toBe(false);
    expect(sameSecret('ab', 'abc')).toBe(false);
  });

  it('wants 32 bytes of key in production, any non-empty key in dev mode', () => {
    expect(adminKeyProblem('k'.repeat(31), false)).toMatch(/31 bytes; use at least 32/);
    expect(adminKeyProblem('k'.repeat(32), false)).toBeUndefined();
    expect(adminKeyProblem('short', true)).toBeUndefined();
    expect(adminKeyProblem('', true)).toMatch(/non-empty/);
    expect(adminKeyProblem('k'.repeat(513), true)).toMatch(/at most 512/);
  });
});

describe('sign-in limiter', () => {
  it('closes an address after its failures and everyone after the global count, until the window ends', () => {
    let now = 0;
    const limiter = new LoginLimiter(() => now);
    for (let i = 0; i < ADMIN_LOGIN_FAILURES_PER_IP; i++) limiter.failed('a');
    expect(limiter.retryAfterMs('a')).toBe(ADMIN_LOGIN_WINDOW_MS);
    expect(limiter.retryAfterMs('b')).toBe(0);
    for (let i = ADMIN_LOGIN_FAILURES_PER_IP; i < ADMIN_LOGIN_FAILURES_GLOBAL; i++) limiter.failed(`ip-${i}`);
    expect(limiter.retryAfterMs('b')).toBeGreaterThan(0);
    now += ADMIN_LOGIN_WINDOW_MS;
    expect(limiter.retryAfterMs('a')).toBe(0);
    expect(limiter.retryAfterMs('b')).toBe(0);
  });
});

describe('p99 from histogram buckets', () => {
  it('is the upper bound of the bucket holding the 99th percentile of the new observations', () => {
    const before = new Map([
      [0.001, 10],
      [0.01, 10],
      [Number.POSITIVE_INFINITY, 10],
    ]);
    const after = new Map([
      [0.001, 100],
      [0.01, 110],
      [Number.POSITIVE_INFINITY, 110],
    ]);
    expect(p99Ms(before, after)).toBe(10);
    expect(p99Ms(after, after)).toBeNull();
  });
});
