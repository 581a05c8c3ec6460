import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhookBody, verifyWebhookSignature } from './webhook-signature.js';

const SECRET = 'unit-test-secret-0123456789';

describe('webhook signatures', () => {
  it('signs "t.body" with HMAC-SHA256 in hex', () => {
    const header = signWebhookBody(SECRET, '{"a":1}', 1_700_000_000);
    const hex = createHmac('sha256', SECRET).update('1700000000.{"a":1}').digest('hex');
    expect(header).toBe(`t=1700000000,v1=${hex}`);
  });

  it('verifies the raw body within the tolerance and nothing else', () => {
    const now = 1_700_000_000_000;
    const header = signWebhookBody(SECRET, 'body', now / 1_000);
    expect(verifyWebhookSignature({ body: 'body', header, secret: SECRET, now })).toBe(true);
    expect(verifyWebhookSignature({ body: Buffer.from('body'), header, secret: SECRET, now })).toBe(true);
    expect(verifyWebhookSignature({ body: 'bodY', header, secret: SECRET, now })).toBe(false);
    expect(verifyWebhookSignature({ body: 'body', header, secret: `${SECRET}!`, now })).toBe(false);
    expect(verifyWebhookSignature({ body: 'body', header, secret: SECRET, now: now + 301_000 })).toBe(false);
    expect(verifyWebhookSignature({ body: 'body', header, secret: SECRET, now: now - 301_000 })).toBe(false);
    // Another v1 beside the right one (a rotated secret) still verifies.
    expect(
      verifyWebhookSignature({ body: 'body', header: `${header},v1=${'0'.repeat(64)}`, secret: SECRET, now }),
    ).toBe(true);
    for (const bad of [undefined, '', 't=abc,v1=00', `v1=${'0'.repeat(64)}`, header.replace('t=', 'x=')]) {
      expect(verifyWebhookSignature({ body: 'body', header: bad, secret: SECRET, now })).toBe(false);
    }
  });
});
