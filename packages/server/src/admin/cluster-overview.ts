import type { NodeCalls } from '../cluster/node-calls.js';
import { sharedRead } from './console-reads.js';
import { type NodeSnapshot, OVERVIEW_POINTS, type OverviewPoint } from './overview-sampler.js';

/** Node bus channel on which a node asks the others for their overview history. */
export const ADMIN_HISTORY_CHANNEL = '$syncline:admin-history';
/** Most nodes whose history one overview answer carries (the calling node included); the rest are counted in `truncated`. */
export const MAX_OVERVIEW_NODES = 64;
/** How long one cluster-wide gather serves every console that opens, ms (a reload storm costs one gather). */
export const OVERVIEW_GATHER_TTL_MS = 2_000;

/** One node's overview at the moment it answered: its last snapshot and its history, oldest first. */
export interface NodeOverview {
  readonly node: NodeSnapshot;
  readonly history: readonly OverviewPoint[];
}

/** `GET /admin/api/overview`: this node's overview, and every node's that answered in time. */
export interface OverviewAnswer {
  /** This node's last snapshot (undefined before its first sample). */
  readonly node: NodeSnapshot | undefined;
  /** This node's history. */
  readonly history: readonly OverviewPoint[];
  /** The other nodes that answered, by id (at most {@link MAX_OVERVIEW_NODES} with this one). */
  readonly others: readonly NodeOverview[];
  /** Live nodes that did not answer in time (their history comes with their next snapshots only). */
  readonly missing: readonly string[];
  /** True when a live node did not answer. */
  readonly partial: boolean;
  /** Nodes that answered but were left out past {@link MAX_OVERVIEW_NODES}. */
  readonly truncated: number;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isPoint(p: unknown): p is OverviewPoint {
  const r = p as Partial<Record<keyof OverviewPoint, unknown>> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    [r.ts, r.connections, r.publicationsPerSec, r.deliveriesPerSec, r.mutationsPerSec, r.eventLoopP99Ms].every(
      isNumber,
    ) &&
    (r.p99PublishMs === null || isNumber(r.p99PublishMs)) &&
    // Nodes of an older version send no delivery latency (taken as null).
    (r.p99DeliveryMs === undefined || r.p99DeliveryMs === null || isNumber(r.p99DeliveryMs)) &&
    isNumber(r.errorsPerSec) &&
    typeof r.errors === 'object' &&
    r.errors !== null
  );
}

/** A point with `p99DeliveryMs` null where a node of an older version sent none. */
const withDelivery = <P extends OverviewPoint>(p: P): P =>
  p.p99DeliveryMs === undefined ? { ...p, p99DeliveryMs: null } : p;

/**
 * Another node's overview; undefined when the reply is not one. Its
 * history is cut to the newest {@link OVERVIEW_POINTS} points, so a reply
 * can hold no more than a node keeps.
 */
export function parseNodeOverview(reply: unknown): NodeOverview | undefined {
  const r = reply as { node?: unknown; history?: unknown } | null;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.history)) return undefined;
  const node = r.node as Partial<NodeSnapshot> | null | undefined;
  if (typeof node !== 'object' || node === null || typeof node.node !== 'string' || !isPoint(node)) return undefined;
  const history = r.history.slice(-OVERVIEW_POINTS);
  if (!history.every(isPoint)) return undefined;
  return { node: withDelivery(node as NodeSnapshot), history: history.map(withDelivery) };
}

/**
 * The overview of every node at once, for a console that opens: each node
 * keeps its own hour of history (`OverviewSampler`), so the console asks
 * every live node over the node bus and draws their history at once rather
 * than only from the snapshots that come after it opened. One gather serves
 * every console for {@link OVERVIEW_GATHER_TTL_MS}; a node that does not
 * answer within `waitMs` is named in `missing` (its lines start with its
 * next snapshot); with the node bus down the answer is this node's alone,
 * marked `partial`.
 */
export class ClusterOverview {
  readonly #read: () => Promise<OverviewAnswer>;

  /** `own`: this node's overview now (its snapshot is undefined before the first sample). */
  constructor(
    calls: NodeCalls,
    own: () => { node: NodeSnapshot | undefined; history: readonly OverviewPoint[] },
    waitMs: number,
  ) {
    calls.serve(ADMIN_HISTORY_CHANNEL, () => {
      const o = own();
      return o.node === undefined ? null : { node: o.node, history: o.history };
    });
    this.#read = sharedRead(async () => {
      // The node bus down (the broker unreachable): this node's overview alone, marked partial.
      const gathered = await calls
        .gather(ADMIN_HISTORY_CHANNEL, {}, { waitMs, parse: parseNodeOverview })
        .catch(() => ({ replies: new Map<string, NodeOverview>(), missing: [] as string[], partial: true }));
      const self = own();
      const all = [...gathered.replies.values()]
        .filter((o) => o.node.node !== self.node?.node)
        .sort((a, b) => (a.node.node < b.node.node ? -1 : a.node.node > b.node.node ? 1 : 0));
      const others = all.slice(0, MAX_OVERVIEW_NODES - 1);
      return {
        node: self.node,
        history: self.history,
        others,
        missing: [...gathered.missing].sort(),
        partial: gathered.partial,
        truncated: all.length - others.length,
      };
    }, OVERVIEW_GATHER_TTL_MS);
  }

  /** This node's overview and every other node's that answers in time. */
  read(): Promise<OverviewAnswer> {
    return this.#read();
  }
}
