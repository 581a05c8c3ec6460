import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { ClusterTiming } from './cluster-timing.js';
import { NodeBus } from './node-bus.js';
import { NodeCalls } from './node-calls.js';
import { NodeRegistry } from './node-registry.js';

/** How a node talks to the others: the control bus, the live peers it knows, and calls with replies. */
export interface NodeLinks {
  readonly bus: NodeBus;
  readonly peers: NodeRegistry;
  readonly calls: NodeCalls;
}

/** Links a node to the rest of its cluster over the broker (alone with an in-process broker). */
export function linkNodes(options: {
  broker: Broker;
  nodeId: string;
  logger: Logger;
  clustered: boolean;
  timing: ClusterTiming;
}): NodeLinks {
  const { broker, nodeId, logger, clustered, timing } = options;
  const bus = new NodeBus({ broker, nodeId, logger, clustered });
  const peers = new NodeRegistry({ bus, logger, heartbeatMs: timing.nodeHeartbeatMs, ttlMs: timing.nodeTtlMs });
  return { bus, peers, calls: new NodeCalls({ bus, registry: peers, nodeId, logger }) };
}
