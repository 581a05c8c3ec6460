import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_VERSIONS, parseNodeCounts } from './client-versions.js';

describe('another node’s app version counts', () => {
  it('are taken when well formed, at most the versions a node reports', () => {
    expect(
      parseNodeCounts({
        counts: [
          ['1.0.0', 3],
          [null, 1],
        ],
        connections: 4,
      }),
    ).toEqual({
      counts: [
        ['1.0.0', 3],
        [null, 1],
      ],
      connections: 4,
    });
    const many = Array.from({ length: MAX_CLIENT_VERSIONS + 10 }, (_, i) => [`1.${i}`, 1]);
    expect(parseNodeCounts({ counts: many, connections: many.length })?.counts).toHaveLength(MAX_CLIENT_VERSIONS);
  });

  it('are refused when they are not counts (an older node, garbage on the node bus)', () => {
    for (const reply of [
      null,
      [],
      { counts: [] },
      { counts: 'x', connections: 1 },
      { counts: [['1.0.0', -1]], connections: 1 },
      { counts: [['1.0.0', 1.5]], connections: 1 },
      { counts: [[1, 1]], connections: 1 },
      { counts: [['1.0.0']], connections: 1 },
      { counts: [['x'.repeat(101), 1]], connections: 1 },
      { counts: [], connections: -3 },
    ]) {
      expect(parseNodeCounts(reply), JSON.stringify(reply)).toBeUndefined();
    }
  });
});
