import { describe, expect, it } from 'vitest';
import { MAX_CONSOLE_MUTATORS, MAX_CONSOLE_NAMESPACES, namespacesAnswer, sharedRead } from './console-reads.js';

describe('console reads', () => {
  it('shares one read between callers for the interval, and does not keep a failure', async () => {
    let now = 0;
    let reads = 0;
    let fail = false;
    const read = sharedRead(
      async () => {
        reads++;
        if (fail) throw new Error('store down');
        return reads;
      },
      1_000,
      () => now,
    );
    expect(await Promise.all(Array.from({ length: 50 }, read))).toEqual(Array(50).fill(1));
    now = 999;
    expect(await read()).toBe(1);
    now = 1_000;
    fail = true;
    await expect(read()).rejects.toThrow('store down');
    fail = false;
    expect(await read()).toBe(3);
    expect(reads).toBe(3);
  });

  it('bounds the namespaces and the mutators of each, sorted by name', () => {
    const many = Array.from({ length: MAX_CONSOLE_NAMESPACES + 5 }, (_, i) => ({
      namespace: `ns${i}`,
      mutators: ['b', 'a'],
      schemaVersion: 1,
    }));
    const a = namespacesAnswer(many);
    expect(a.namespaces).toHaveLength(MAX_CONSOLE_NAMESPACES);
    expect(a.namespaces[0]?.mutators).toEqual(['a', 'b']);
    expect(a.truncated).toBe(true);
    const wide = namespacesAnswer([
      {
        namespace: 'x',
        mutators: Array.from({ length: MAX_CONSOLE_MUTATORS + 1 }, (_, i) => `m${i}`),
        schemaVersion: 2,
      },
    ]);
    expect(wide.namespaces[0]?.mutators).toHaveLength(MAX_CONSOLE_MUTATORS);
    expect(wide.truncated).toBe(true);
    expect(namespacesAnswer([{ namespace: 'x', mutators: [], schemaVersion: 1 }]).truncated).toBe(false);
  });
});
