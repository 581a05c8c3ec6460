import { describe, expect, it } from 'vitest';
import { parseNodeOverview } from './cluster-overview.js';
import { OVERVIEW_POINTS } from './overview-sampler.js';

const point = (ts: number) => ({
  ts,
  connections: 1,
  publicationsPerSec: 0,
  deliveriesPerSec: 0,
  mutationsPerSec: 0,
  p99PublishMs: null,
  p99DeliveryMs: 0.5,
  eventLoopP99Ms: 1,
  errors: {},
  errorsPerSec: 0,
});
const snapshot = {
  ...point(10),
  node: 'n1',
  version: '0.1.0',
  protocol: { min: 1, max: 1 },
  startedAt: 0,
  ready: true,
  draining: false,
};

describe('another node’s overview reply', () => {
  it('is taken when well formed, with at most the points a node keeps', () => {
    expect(parseNodeOverview({ node: snapshot, history: [point(1), point(2)] })).toEqual({
      node: snapshot,
      history: [point(1), point(2)],
    });
    const long = Array.from({ length: OVERVIEW_POINTS + 500 }, (_, i) => point(i));
    const parsed = parseNodeOverview({ node: snapshot, history: long });
    expect(parsed?.history).toHaveLength(OVERVIEW_POINTS);
    expect(parsed?.history[0]).toEqual(point(500));
  });

  it('takes a node of an older version, which sends no delivery latency, as having none (null)', () => {
    const { p99DeliveryMs: _, ...older } = point(1);
    const { p99DeliveryMs: __, ...olderSnapshot } = snapshot;
    expect(parseNodeOverview({ node: olderSnapshot, history: [older] })).toEqual({
      node: { ...snapshot, p99DeliveryMs: null },
      history: [{ ...point(1), p99DeliveryMs: null }],
    });
  });

  it('is refused when it is not an overview (an older node, a node without console, garbage)', () => {
    for (const reply of [
      null,
      'x',
      { node: snapshot },
      { node: snapshot, history: 'no' },
      { node: { ...snapshot, node: 3 }, history: [] },
      { node: { ...snapshot, ts: 'now' }, history: [] },
      { node: snapshot, history: [point(1), { ...point(2), errors: null }] },
      { node: snapshot, history: [{ ...point(1), p99DeliveryMs: 'slow' }] },
      { node: snapshot, history: [{ ts: 1 }] },
    ]) {
      expect(parseNodeOverview(reply), JSON.stringify(reply)).toBeUndefined();
    }
  });
});
