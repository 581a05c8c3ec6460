import { DEFAULT_CALL_WAIT_MS, MAX_CALL_WAIT_MS } from './node-calls.js';
import { DEFAULT_NODE_HEARTBEAT_MS, DEFAULT_NODE_TTL_MS } from './node-registry.js';

/** How nodes of a cluster learn of each other, and how long a node waits for the others' counts. */
export interface ClusterTimingOptions {
  /** Interval at which a node announces itself to the others (default 2 s). */
  readonly nodeHeartbeatMs?: number;
  /** A node not heard from for this long no longer counts as live (default 6 s; more than `nodeHeartbeatMs`). */
  readonly nodeTtlMs?: number;
  /**
   * Longest wait of a user operation (user messages, disconnects,
   * revocations) for the other nodes' counts (default 1 s, at most 10 s).
   */
  readonly countWaitMs?: number;
}

/** `ClusterTimingOptions` with their defaults applied. */
export type ClusterTiming = Required<ClusterTimingOptions>;

function positive(value: number | undefined, fallback: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`cluster.${name} must be a whole number of ms from 1 to ${max} (got ${String(value)}).`);
  }
  return value;
}

/** Applies the defaults; throws on a value out of range. */
export function resolveClusterTiming(options: ClusterTimingOptions = {}): ClusterTiming {
  const nodeHeartbeatMs = positive(options.nodeHeartbeatMs, DEFAULT_NODE_HEARTBEAT_MS, 'nodeHeartbeatMs');
  const nodeTtlMs = positive(options.nodeTtlMs, Math.max(DEFAULT_NODE_TTL_MS, nodeHeartbeatMs * 3), 'nodeTtlMs');
  if (nodeTtlMs <= nodeHeartbeatMs) throw new Error('cluster.nodeTtlMs must be longer than cluster.nodeHeartbeatMs.');
  const countWaitMs = positive(options.countWaitMs, DEFAULT_CALL_WAIT_MS, 'countWaitMs', MAX_CALL_WAIT_MS);
  return { nodeHeartbeatMs, nodeTtlMs, countWaitMs };
}
