import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './webhook-deliverer.js';

describe('retryDelayMs', () => {
  it('doubles from the base, is capped, and is jittered between half and all of it', () => {
    expect([0, 1, 2, 3].map((n) => retryDelayMs(n, 1_000, 60_000, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(retryDelayMs(0, 1_000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(30, 1_000, 60_000, () => 1)).toBe(60_000);
    expect(retryDelayMs(10_000, 1_000, 60_000, () => 0.5)).toBe(45_000);
  });
});
