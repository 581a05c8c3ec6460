import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from './request-signature.js';

const SECRET = 'a-shared-secret-0123456789-abcdefghij';

describe('Syncline-Signature', () => {
  it('verifies its own signature and refuses a tampered body, another secret, an old or future time, and malformed headers', () => {
    const now = 1_796_000_000_000;
    const body = '{"type":"publication","data":{"n":1}}';
    const header = signatureHeader(SECRET, body, now);
    expect(header).toMatch(/^t=1796000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, header, body, { nowMs: now + 1_000 })).toBe(true);
    expect(verifySignature(SECRET, header, `${body} `, { nowMs: now })).toBe(false);
    expect(verifySignature(`${SECRET}x`, header, body, { nowMs: now })).toBe(false);
    expect(verifySignature(SECRET, header, body, { nowMs: now + 301_000 })).toBe(false);
    expect(verifySignature(SECRET, header, body, { nowMs: now - 301_000 })).toBe(false);
    expect(verifySignature(SECRET, header, body, { nowMs: now + 301_000, toleranceSec: 600 })).toBe(true);
    for (const bad of [
      undefined,
      '',
      'v1=00',
      't=abc,v1=00',
      `t=${Math.floor(now / 1000)}`,
      `${header.slice(0, -1)}`,
    ]) {
      expect(verifySignature(SECRET, bad, body, { nowMs: now }), String(bad)).toBe(false);
    }
    // Several v1 values (a secret being rotated): one match is enough.
    const other = signatureHeader('another-secret-0123456789-abcdefghijk', body, now).split(',')[1];
    expect(verifySignature(SECRET, `${header},${other}`, body, { nowMs: now })).toBe(true);
  });
});
