import { describe, expect, it } from 'vitest';
import type { Session } from './session.js';
import { UserSlots } from './user-slots.js';

const session = (): Session => ({ closed: false }) as unknown as Session;

describe('UserSlots', () => {
  it('counts the pending sessions of each user, one or many, until each is released', () => {
    const slots = new UserSlots();
    const [a, b, c, other] = [session(), session(), session(), session()];
    expect(slots.pending('u', a)).toBe(0);
    slots.reserve('u', a);
    slots.reserve('u', a);
    expect(slots.pending('u', a)).toBe(0);
    expect(slots.pending('u', b)).toBe(1);
    slots.reserve('u', b);
    slots.reserve('u', c);
    slots.reserve('v', other);
    expect(slots.pending('u', other)).toBe(3);
    expect(slots.pending('u', b)).toBe(2);
    expect(slots.pending('v', a)).toBe(1);
    slots.release(b);
    slots.release(b);
    expect(slots.pending('u', other)).toBe(2);
    slots.release(a);
    expect(slots.pending('u', other)).toBe(1);
    expect(slots.pending('u', c)).toBe(0);
    slots.reserve('u', a);
    expect(slots.pending('u', other)).toBe(2);
    slots.release(a);
    slots.release(c);
    expect(slots.pending('u', other)).toBe(0);
    slots.release(other);
    expect(slots.pending('v', a)).toBe(0);
  });

  it('holds no slot for a closed session', () => {
    const slots = new UserSlots();
    const closed = { closed: true } as unknown as Session;
    slots.reserve('u', closed);
    expect(slots.pending('u', session())).toBe(0);
    slots.release(closed);
  });
});
