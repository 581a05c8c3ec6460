import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '@syncline/protocol';
import type { NodeCalls, NodesAnswered } from '../cluster/node-calls.js';
import type { NodeReadiness } from '../http/node-http.js';
import { serverVersion } from '../server-version.js';

/** Node bus channel on which a node asks the others to describe themselves. */
export const NODE_INFO_CHANNEL = '$syncline:node-info';

/** One node as it describes itself, at the moment it answers. */
export interface NodeInfo {
  readonly id: string;
  /** Version of `@syncline/server` the node runs. */
  readonly version: string;
  /** Protocol versions the node accepts. */
  readonly protocol: { readonly min: number; readonly max: number };
  /** When the node was created, ms since the epoch. */
  readonly startedAt: number;
  readonly uptimeMs: number;
  /** Open connections (as `/readyz` counts them). */
  readonly connections: number;
  readonly maxConnections: number;
  /** Users with at least one connected session on the node. */
  readonly users: number;
  /** What `/readyz` answers: accepting connections with every backend up. */
  readonly ready: boolean;
  readonly draining: boolean;
  /** State of the broker and document storage, for nodes that have them (`/readyz` names them too). */
  readonly broker?: 'up' | 'down';
  readonly docs?: 'up' | 'down';
}

/** Every node that answered, and what the answer covers. */
export interface NodeList {
  /** The node that answered the request. */
  readonly node: string;
  /** Every node that answered, by id. */
  readonly members: readonly NodeInfo[];
  /** Sums over `members`. */
  readonly totals: {
    readonly nodes: number;
    readonly ready: number;
    readonly draining: number;
    readonly connections: number;
  };
  /** Ids of live nodes that did not answer in time. */
  readonly missing: readonly string[];
  readonly nodes: NodesAnswered;
  readonly partial: boolean;
}

/** What describing a node reads of it. */
export interface NodeFacts {
  readonly id: string;
  readonly startedAt: number;
  /** `protocolRange` of the server options, if set. */
  readonly protocol: { readonly min: number; readonly max: number } | undefined;
  /** What `/readyz` answers now. */
  readiness(): NodeReadiness;
  /** Users with a connected session now. */
  users(): number;
}

/** The node's description now. */
export function describeNode(facts: NodeFacts): NodeInfo {
  const r = facts.readiness();
  return {
    id: facts.id,
    version: serverVersion(),
    protocol: facts.protocol ?? { min: MIN_PROTOCOL_VERSION, max: PROTOCOL_VERSION },
    startedAt: facts.startedAt,
    uptimeMs: Date.now() - facts.startedAt,
    connections: r.connections,
    maxConnections: r.maxConnections,
    users: facts.users(),
    ready: r.ready,
    draining: r.draining,
    ...(r.broker === undefined ? {} : { broker: r.broker }),
    ...(r.docs === undefined ? {} : { docs: r.docs }),
  };
}

const STATES = new Set(['up', 'down']);

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Another node's description; undefined when the reply is not one. */
export function parseNodeInfo(reply: unknown): NodeInfo | undefined {
  const r = reply as Partial<Record<keyof NodeInfo, unknown>> | null;
  if (typeof r !== 'object' || r === null) return undefined;
  const protocol = r.protocol as { min?: unknown; max?: unknown } | null;
  const ok =
    typeof r.id === 'string' &&
    typeof r.version === 'string' &&
    typeof protocol === 'object' &&
    protocol !== null &&
    isCount(protocol.min) &&
    isCount(protocol.max) &&
    [r.startedAt, r.uptimeMs, r.connections, r.maxConnections, r.users].every(isCount) &&
    typeof r.ready === 'boolean' &&
    typeof r.draining === 'boolean' &&
    (r.broker === undefined || STATES.has(r.broker as string)) &&
    (r.docs === undefined || STATES.has(r.docs as string));
  return ok ? (r as NodeInfo) : undefined;
}

/**
 * The nodes of a cluster as each describes itself: the request goes to
 * every live node over the node bus and each answers with its own values
 * of that moment (no cached state), within `waitMs`.
 */
export class NodeDirectory {
  readonly #calls: NodeCalls;
  readonly #describe: () => NodeInfo;
  readonly #waitMs: number;

  /** `describe`: this node's description, now. */
  constructor(calls: NodeCalls, describe: () => NodeInfo, waitMs: number) {
    this.#calls = calls;
    this.#describe = describe;
    this.#waitMs = waitMs;
    calls.serve(NODE_INFO_CHANNEL, () => describe());
  }

  /** This node and every other node that answers within the wait, by id. */
  async list(): Promise<NodeList> {
    const self = this.#describe();
    const { replies, nodes, partial, missing } = await this.#calls.gather(
      NODE_INFO_CHANNEL,
      {},
      { waitMs: this.#waitMs, parse: parseNodeInfo },
    );
    const members = [self, ...replies.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let ready = 0;
    let draining = 0;
    let connections = 0;
    for (const m of members) {
      if (m.ready) ready++;
      if (m.draining) draining++;
      connections += m.connections;
    }
    const totals = { nodes: members.length, ready, draining, connections };
    return { node: self.id, members, totals, missing: [...missing].sort(), nodes, partial };
  }
}
