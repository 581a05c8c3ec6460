import { describe, expect, it } from 'vitest';
import { resolveClusterTiming } from './cluster-timing.js';
import { MAX_CALL_WAIT_MS } from './node-calls.js';

describe('resolveClusterTiming', () => {
  it('applies the defaults; the TTL follows a longer heartbeat', () => {
    expect(resolveClusterTiming()).toEqual({ nodeHeartbeatMs: 2_000, nodeTtlMs: 6_000, countWaitMs: 1_000 });
    expect(resolveClusterTiming({ nodeHeartbeatMs: 5_000 }).nodeTtlMs).toBe(15_000);
  });

  it('bounds the wait for other nodes and refuses a TTL not longer than the heartbeat', () => {
    expect(resolveClusterTiming({ countWaitMs: MAX_CALL_WAIT_MS }).countWaitMs).toBe(MAX_CALL_WAIT_MS);
    expect(() => resolveClusterTiming({ countWaitMs: MAX_CALL_WAIT_MS + 1 })).toThrow(/countWaitMs.*1 to 10000/);
    expect(() => resolveClusterTiming({ countWaitMs: 0 })).toThrow(/countWaitMs/);
    expect(() => resolveClusterTiming({ nodeHeartbeatMs: 1.5 })).toThrow(/nodeHeartbeatMs/);
    expect(() => resolveClusterTiming({ nodeHeartbeatMs: 1_000, nodeTtlMs: 1_000 })).toThrow(/longer than/);
  });
});
