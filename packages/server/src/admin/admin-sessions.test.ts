import { describe, expect, it } from 'vitest';
import { ADMIN_SESSION_TTL_MS, ADMIN_TOKEN_TTL_MS, adminKeyProblem, MAX_ADMIN_SESSIONS } from './admin-options.js';
import { AdminSessionLedger } from './admin-session-ledger.js';
import { type AdminSession, AdminSessions, sameSecret } from './admin-sessions.js';
import { p99Ms } from './overview-metrics.js';

describe('console sessions', () => {
  const KEY = 'k'.repeat(32);

  it('are signed values any node with the same admin key reads; another key, a changed byte or an expiry refuses them', () => {
    let now = 1_000;
    const a = new AdminSessions(KEY, () => now);
    const b = new AdminSessions(KEY, () => now);
    const s = a.create();
    expect(b.get(s.id)).toMatchObject({ sid: s.sid, csrf: s.csrf, createdAt: s.createdAt, expiresAt: s.expiresAt });
    expect(new AdminSessions('x'.repeat(32), () => now).get(s.id)).toBeUndefined();
    const [sid, at, exp, mac] = s.id.split('.') as [string, string, string, string];
    expect(b.get(`${sid}.${at}.${Number(exp) + 1}.${mac}`)).toBeUndefined();
    expect(b.get(`${sid}.${at}.${exp}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(b.get(`${s.id}.extra`)).toBeUndefined();
    expect(b.get('x'.repeat(10_000))).toBeUndefined();
    now += ADMIN_SESSION_TTL_MS;
    expect(a.get(s.id)).toBeUndefined();
    expect(b.get(s.id)).toBeUndefined();
  });

  it('tokens are signed for their session, expire, and end with it', () => {
    let now = 0;
    const sessions = new AdminSessions(KEY, () => now);
    const s = sessions.create();
    const { token, expiresAt } = sessions.mintToken(s);
    expect(expiresAt).toBe(ADMIN_TOKEN_TTL_MS);
    expect(sessions.token(token)).toMatchObject({ sid: s.sid, issuedAt: s.createdAt, expiresAt });
    // A session cookie is no token, and a token is no session cookie (separate keys).
    expect(sessions.token(`sla_${s.id}`)).toBeUndefined();
    expect(sessions.get(token.slice(4))).toBeUndefined();
    now += ADMIN_TOKEN_TTL_MS;
    expect(sessions.token(token)).toBeUndefined();
    const fresh = sessions.mintToken(s).token;
    sessions.end(s);
    expect(sessions.token(fresh)).toBeUndefined();
    expect(sessions.get(s.id)).toBeUndefined();
  });

  it('the CSRF token is derived from the session id, the same on every node', () => {
    const a = new AdminSessions(KEY).create();
    const b = new AdminSessions(KEY).get(a.id);
    expect(b?.csrf).toBe(a.csrf);
    expect(new AdminSessions(KEY).create().csrf).not.toBe(a.csrf);
  });
});

describe('console session ledger', () => {
  it('keeps the newest sign-ins: one more ends the oldest, and sign-outs stay ended', () => {
    let now = 1_000;
    const sessions = new AdminSessions('k'.repeat(32), () => now++);
    const first = sessions.create();
    const second = sessions.create();
    sessions.end(second);
    for (let i = 2; i < MAX_ADMIN_SESSIONS; i++) sessions.create();
    expect(sessions.ledger.size).toBe(MAX_ADMIN_SESSIONS);
    expect(sessions.get(first.id)).toBeDefined();
    const newest = sessions.create();
    expect(sessions.ledger.size).toBe(MAX_ADMIN_SESSIONS);
    expect(sessions.get(first.id)).toBeUndefined();
    expect(sessions.get(second.id)).toBeUndefined();
    expect(sessions.get(newest.id)).toBeDefined();
    now += ADMIN_SESSION_TTL_MS;
    expect(sessions.get(newest.id)).toBeUndefined();
    expect(sessions.ledger.size).toBe(0);
  });

  it('learns a session signed elsewhere, and merges in any order to the same state', () => {
    let now = 1_000;
    const clock = () => now;
    const a = new AdminSessions('k'.repeat(32), clock);
    const b = new AdminSessions('k'.repeat(32), clock);
    const made = Array.from({ length: MAX_ADMIN_SESSIONS + 5 }, () => {
      now++;
      return (now % 2 === 0 ? a : b).create();
    });
    a.end(made[MAX_ADMIN_SESSIONS] as AdminSession);
    const fromA = a.ledger.state();
    const fromB = b.ledger.state();
    const ab = new AdminSessionLedger(clock);
    ab.merge(fromA);
    ab.merge(fromB);
    const ba = new AdminSessionLedger(clock);
    ba.merge(fromB);
    ba.merge(fromA);
    ba.merge(fromA);
    expect(ba.state()).toEqual(ab.state());
    expect(ab.size).toBe(MAX_ADMIN_SESSIONS);
    a.ledger.merge(fromB);
    b.ledger.merge(fromA);
    for (const [i, s] of made.entries()) {
      const live = i >= 5 && i !== MAX_ADMIN_SESSIONS;
      expect([i, a.get(s.id) !== undefined, b.get(s.id) !== undefined]).toEqual([i, live, live]);
    }
  });
});

describe('secrets', () => {
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
