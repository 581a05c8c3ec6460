import { describe, expect, it } from 'vitest';
import { claimCapabilities, parseCapabilities } from './capabilities.js';

const fromJson = (text: string): unknown => JSON.parse(text);

describe('claimCapabilities', () => {
  it('gives each claim text its own capabilities, however often the claims alternate', () => {
    const claims = [
      '[{"match":"room:*","allow":["subscribe"]}]',
      '[{"match":"room:*","allow":["publish"]}]',
      '[{"match":"room:*","allow":["subscribe","publish"]}]',
      '[{"match":"room:?","allow":["*"]}]',
      '[{"match":"room:*","allow":["subscribe"],"note":"extra fields are ignored"}]',
      '[]',
    ];
    for (let round = 0; round < 3; round++) {
      for (const text of round === 1 ? [...claims].reverse() : claims) {
        const shared = claimCapabilities(fromJson(text));
        expect(shared?.capabilities).toEqual(parseCapabilities(fromJson(text)));
      }
    }
    const sub = claimCapabilities(fromJson(claims[0] as string));
    const pub = claimCapabilities(fromJson(claims[1] as string));
    expect(sub?.can.allows('subscribe', 'room:1')).toBe(true);
    expect(sub?.can.allows('publish', 'room:1')).toBe(false);
    expect(pub?.can.allows('publish', 'room:1')).toBe(true);
    expect(pub?.can.allows('subscribe', 'room:1')).toBe(false);
    expect(claimCapabilities(fromJson(claims[3] as string))?.can.allows('publish', 'room:12')).toBe(false);
  });

  it('refuses a malformed claim every time, also after a valid one with the same names', () => {
    const valid = '[{"match":"room:*","allow":["subscribe"]}]';
    const malformed = [
      '[{"match":"room:*","allow":["subscribe","own-the-node"]}]',
      '[{"match":"room:*","allow":"subscribe"}]',
      '[{"match":"","allow":["subscribe"]}]',
      '{"match":"room:*","allow":["subscribe"]}',
      '"*"',
      'null',
    ];
    for (let round = 0; round < 3; round++) {
      expect(claimCapabilities(fromJson(valid))).toBeDefined();
      for (const text of malformed) expect(claimCapabilities(fromJson(text))).toBeUndefined();
    }
  });

  it('shares what it remembers without letting it be changed, and stays bounded', () => {
    const text = '[{"match":"room:*","allow":["subscribe"]}]';
    const shared = claimCapabilities(fromJson(text));
    expect(Object.isFrozen(shared?.capabilities)).toBe(true);
    // A caller that alters its parsed claim afterwards does not alter the remembered verdict.
    const raw = fromJson(text) as Array<{ allow: string[] }>;
    claimCapabilities(raw);
    (raw[0] as { allow: string[] }).allow.push('publish');
    expect(claimCapabilities(fromJson(text))?.can.allows('publish', 'room:1')).toBe(false);
    // Far more distinct claims than are remembered: each still gets its own verdict.
    for (let i = 0; i < 3000; i++) {
      const c = claimCapabilities([{ match: `r${i}:*`, allow: ['read'] }]);
      expect(c?.can.allows('read', `r${i}:x`)).toBe(true);
      expect(c?.can.allows('read', `r${i + 1}:x`)).toBe(false);
    }
    // Long claims are validated each time (not remembered) and still answered.
    const long = Array.from({ length: 200 }, (_, i) => ({ match: `long-name-${i}:*`, allow: ['subscribe'] }));
    expect(claimCapabilities(long)?.capabilities).toHaveLength(200);
    // Internal namespaces stay out of reach of any claim.
    expect(claimCapabilities([{ match: '*', allow: ['*'] }])?.can.allows('subscribe', 'syncline-admin:x')).toBe(false);
  });
});
