import type { PresenceEntry } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { encodeStateParts } from './presence-state-sender.js';

function entries(n: number, padBytes: number): PresenceEntry[] {
  const pad = 'p'.repeat(padBytes);
  return Array.from({ length: n }, (_, i) => ({
    user: `u${i % 3}`,
    clientId: `c${i}`,
    state: { pad },
    enteredAt: i,
    updatedAt: i,
  }));
}

describe('encodeStateParts', () => {
  it('encodes a set that fits as one message without part or more, as before parts existed', () => {
    const snapshot = { seq: 7, entries: entries(3, 10) };
    const frames = encodeStateParts('room:a', snapshot, 1_000);
    expect(frames).toHaveLength(1);
    expect(frames[0]?.message).toEqual({ type: 'presence.state', channel: 'room:a', ...snapshot });
    expect(encodeStateParts('room:a', { seq: 1, entries: [] })[0]?.message).toEqual({
      type: 'presence.state',
      channel: 'room:a',
      seq: 1,
      entries: [],
    });
  });

  it('splits a large set into numbered parts of bounded size whose entries concatenate to the set', () => {
    const snapshot = { seq: 42, entries: entries(100, 200) };
    const frames = encodeStateParts('room:"b"', snapshot, 2_000);
    const parts = frames.map((f) => f.message);
    expect(parts.length).toBeGreaterThan(5);
    parts.forEach((p, i) => {
      expect(p).toMatchObject({ type: 'presence.state', channel: 'room:"b"', seq: 42, part: i });
      expect(p.more).toBe(i < parts.length - 1 ? true : undefined);
      expect(JSON.stringify(p.entries).length).toBeLessThanOrEqual(2_000);
    });
    expect(parts.flatMap((p) => p.entries)).toEqual(snapshot.entries);
  });

  it('puts an entry larger than a part alone in its part', () => {
    const frames = encodeStateParts('room:c', { seq: 1, entries: entries(3, 500) }, 100);
    expect(frames.map((f) => f.message.entries.length)).toEqual([1, 1, 1]);
  });
});
