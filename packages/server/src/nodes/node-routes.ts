import * as v from 'valibot';
import type { ApiRoute } from '../http/api-route.js';
import type { NodeDirectory } from './node-directory.js';

const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const BackendState = v.optional(v.picklist(['up', 'down']));

/** One node as it describes itself. */
export const ApiNode = v.object({
  id: v.string(),
  version: v.pipe(v.string(), v.description('Version of @syncline/server.')),
  protocol: v.pipe(v.object({ min: Count, max: Count }), v.description('Protocol versions the node accepts.')),
  startedAt: v.pipe(Count, v.description('When the node started, ms since the epoch.')),
  uptimeMs: Count,
  connections: v.pipe(Count, v.description('Open connections.')),
  maxConnections: Count,
  users: v.pipe(Count, v.description('Users with a connected session on this node.')),
  ready: v.pipe(v.boolean(), v.description('What `/readyz` says: accepting connections, every backend up.')),
  draining: v.boolean(),
  broker: BackendState,
  docs: BackendState,
});

/** Response of `GET /v1/nodes`. */
export const NodesResponse = v.object({
  node: v.pipe(v.string(), v.description('The node that answered.')),
  members: v.pipe(v.array(ApiNode), v.description('Every node that answered, by id.')),
  totals: v.object({ nodes: Count, ready: Count, draining: Count, connections: Count }),
  missing: v.pipe(v.array(v.string()), v.description('Live nodes that did not answer in time.')),
  nodes: v.object({ answered: Count, expected: Count }),
  partial: v.pipe(v.boolean(), v.description('True when some live node did not answer in time.')),
});

/** The HTTP API route that lists the nodes of the cluster. */
export function nodeRoutes(directory: Pick<NodeDirectory, 'list'>): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/nodes',
      operationId: 'listNodes',
      summary:
        'Every live node of the cluster as it describes itself now: version, protocol, uptime, connections, readiness.',
      response: NodesResponse,
      errors: ['unavailable'],
      handle: () => directory.list(),
    },
  ];
}
