import { createHmac } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { HmacJwtError, HmacJwtVerifier } from './hmac-jwt.js';

const SECRET = new TextEncoder().encode('parity-secret-0123456789-abcdefghijklmnop');
const OTHER = new TextEncoder().encode('another-secret-0123456789-abcdefghijklmn');
const now = (): number => Math.floor(Date.now() / 1000);

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A token built by hand, so headers and payloads jose would never sign can be tried. */
function raw(header: unknown, payload: unknown, hash = 'sha256', key = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

function sign(alg: string, claims: Record<string, unknown>, key = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

type Verdict = 'ok' | 'expired' | 'invalid';

async function viaJose(token: string, opts: { issuer?: string; audience?: string }): Promise<Verdict> {
  try {
    await jwtVerify(token, SECRET, { clockTolerance: 5, algorithms: ['HS256', 'HS384', 'HS512'], ...opts });
    return 'ok';
  } catch (err) {
    return err instanceof errors.JWTExpired ? 'expired' : 'invalid';
  }
}

function viaHmac(
  token: string,
  opts: { issuer?: string; audience?: string },
  verifier = new HmacJwtVerifier(SECRET, { clockToleranceSec: 5, ...opts }),
): Verdict {
  try {
    verifier.verify(token);
    return 'ok';
  } catch (err) {
    if (!(err instanceof HmacJwtError)) throw err;
    return err.expired ? 'expired' : 'invalid';
  }
}

describe('HmacJwtVerifier', () => {
  it('accepts and refuses exactly the tokens jose does, with the same expiry verdicts', async () => {
    const t = now();
    const good = { sub: 'u', iat: t, exp: t + 60 };
    const valid = await sign('HS256', good);
    const [h, p, s] = valid.split('.') as [string, string, string];
    const cases: Array<{ name: string; token: string; opts?: { issuer?: string; audience?: string } }> = [
      { name: 'HS256', token: valid },
      { name: 'HS384', token: await sign('HS384', good) },
      { name: 'HS512', token: await sign('HS512', good) },
      { name: 'no exp', token: await sign('HS256', { sub: 'u' }) },
      { name: 'other secret', token: await sign('HS256', good, OTHER) },
      { name: 'expired', token: await sign('HS256', { sub: 'u', exp: t - 60 }) },
      { name: 'expired within tolerance', token: await sign('HS256', { sub: 'u', exp: t - 2 }) },
      { name: 'expired at the tolerance', token: await sign('HS256', { sub: 'u', exp: t - 5 }) },
      { name: 'not yet valid', token: await sign('HS256', { sub: 'u', nbf: t + 60 }) },
      { name: 'nbf within tolerance', token: await sign('HS256', { sub: 'u', nbf: t + 2 }) },
      { name: 'exp not a number', token: raw({ alg: 'HS256' }, { sub: 'u', exp: 'soon' }) },
      { name: 'nbf not a number', token: raw({ alg: 'HS256' }, { sub: 'u', nbf: 'x' }) },
      { name: 'iat not a number', token: raw({ alg: 'HS256' }, { sub: 'u', iat: 'x' }) },
      { name: 'alg none', token: `${b64({ alg: 'none' })}.${b64(good)}.` },
      { name: 'alg missing', token: raw({ typ: 'JWT' }, good) },
      { name: 'RS256 label on an HMAC', token: raw({ alg: 'RS256' }, good) },
      { name: 'header says HS384, signed HS256', token: raw({ alg: 'HS384' }, good, 'sha256') },
      { name: 'unknown crit', token: raw({ alg: 'HS256', crit: ['x'], x: 1 }, good) },
      { name: 'payload is an array', token: raw({ alg: 'HS256' }, [1, 2]) },
      { name: 'payload is not JSON', token: raw({ alg: 'HS256' }, 'not json') },
      { name: 'header is not JSON', token: raw('nope', good) },
      { name: 'tampered payload', token: `${h}.${b64({ ...good, sub: 'admin' })}.${s}` },
      { name: 'truncated signature', token: `${h}.${p}.${s.slice(0, -2)}` },
      { name: 'empty signature', token: `${h}.${p}.` },
      { name: 'two parts', token: `${h}.${p}` },
      { name: 'four parts', token: `${valid}.x` },
      { name: 'empty', token: '' },
      { name: 'garbage', token: 'a.b.c' },
      { name: 'issuer matches', token: await sign('HS256', { ...good, iss: 'me' }), opts: { issuer: 'me' } },
      { name: 'issuer differs', token: await sign('HS256', { ...good, iss: 'you' }), opts: { issuer: 'me' } },
      { name: 'issuer missing', token: valid, opts: { issuer: 'me' } },
      { name: 'audience string', token: await sign('HS256', { ...good, aud: 'app' }), opts: { audience: 'app' } },
      { name: 'audience list', token: await sign('HS256', { ...good, aud: ['x', 'app'] }), opts: { audience: 'app' } },
      { name: 'audience differs', token: await sign('HS256', { ...good, aud: 'other' }), opts: { audience: 'app' } },
      { name: 'audience missing', token: valid, opts: { audience: 'app' } },
    ];
    const verdicts = await Promise.all(
      cases.map(async (c) => ({
        name: c.name,
        jose: await viaJose(c.token, c.opts ?? {}),
        hmac: viaHmac(c.token, c.opts ?? {}),
      })),
    );
    for (const v of verdicts) expect({ name: v.name, verdict: v.hmac }).toEqual({ name: v.name, verdict: v.jose });
    // The cases cover every verdict.
    expect(new Set(verdicts.map((v) => v.jose))).toEqual(new Set(['ok', 'expired', 'invalid']));
  });

  it('gives every token its own verdict when one verifier checks them all (remembered headers)', async () => {
    const t = now();
    const good = { sub: 'u', iat: t, exp: t + 60 };
    const valid = await sign('HS256', good);
    const [h, p, s] = valid.split('.') as [string, string, string];
    const hs384 = await sign('HS384', good);
    const forged = (header: unknown, payload: unknown): string => {
      const input = `${b64(header)}.${b64(payload)}`;
      return `${input}.${createHmac('sha256', OTHER).update(input).digest('base64url')}`;
    };
    // Tokens sharing a header that verified with tokens it must not vouch for.
    const cases = [
      valid,
      hs384,
      raw({ alg: 'HS384' }, good, 'sha256'),
      raw({ alg: 'HS256', typ: 'JWT' }, good, 'sha256', OTHER),
      `${h}.${b64({ ...good, sub: 'admin' })}.${s}`,
      `${h}.${p}.${s.slice(0, -2)}`,
      `${h}.${p}.`,
      `${h}.${b64({ sub: 'u', exp: t - 60 })}.${s}`,
      raw({ alg: 'HS256', typ: 'JWT' }, { sub: 'u', exp: t - 60 }),
      raw({ alg: 'HS256', typ: 'JWT' }, { sub: 'u', nbf: t + 60 }),
      raw({ alg: 'HS256', typ: 'JWT' }, { sub: 'u', exp: 'soon' }),
      raw({ alg: 'HS256', crit: ['x'], x: 1 }, good),
      forged({ alg: 'HS256', typ: 'JWT' }, good),
      forged({ alg: 'HS256', kid: 'k' }, good),
      raw({ alg: 'HS256', kid: 'k' }, good),
      `${b64({ alg: 'none' })}.${b64(good)}.`,
    ];
    const expected = await Promise.all(cases.map((token) => viaJose(token, {})));
    const shared = new HmacJwtVerifier(SECRET, { clockToleranceSec: 5 });
    // Forward, backward and forward again: every order of first sightings.
    for (const order of [cases, [...cases].reverse(), cases]) {
      for (const token of order) {
        expect({ token, verdict: viaHmac(token, {}, shared) }).toEqual({
          token,
          verdict: expected[cases.indexOf(token)],
        });
      }
    }
    // Many distinct valid headers (more than are remembered) change no verdict.
    for (let i = 0; i < 300; i++) {
      expect(viaHmac(raw({ alg: 'HS256', kid: `k${i}` }, good), {}, shared)).toBe('ok');
      expect(viaHmac(forged({ alg: 'HS256', kid: `k${i}` }, good), {}, shared)).toBe('invalid');
    }
    for (const token of cases) expect(viaHmac(token, {}, shared)).toBe(expected[cases.indexOf(token)]);
  });

  it('refuses a signature that is not the canonical base64url encoding (other unused trailing bits)', async () => {
    const valid = await sign('HS256', { sub: 'admin', exp: now() + 60 });
    const [h, p, s] = valid.split('.') as [string, string, string];
    // 32 bytes are 43 characters: the last one carries 4 bits and 2 unused ones.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.slice(-1));
    const variants = [1, 2, 3].map((bits) => `${h}.${p}.${s.slice(0, -1)}${alphabet[last ^ bits]}`);
    for (const token of variants) {
      // Same signature bytes: a lenient decoder (jose's) accepts the variant.
      expect(Buffer.from(token.split('.')[2] as string, 'base64url')).toEqual(Buffer.from(s, 'base64url'));
      expect(await viaJose(token, {})).toBe('ok');
      expect(viaHmac(token, {})).toBe('invalid');
    }
    expect(viaHmac(valid, {})).toBe('ok');
  });

  it('returns the payload of a valid token', async () => {
    const token = await sign('HS256', { sub: 'alice', caps: [{ match: '*', allow: ['*'] }], info: { name: 'A' } });
    const payload = new HmacJwtVerifier(SECRET, { clockToleranceSec: 5 }).verify(token);
    expect(payload).toMatchObject({ sub: 'alice', info: { name: 'A' } });
  });
});
