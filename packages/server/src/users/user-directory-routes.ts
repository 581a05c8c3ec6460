import { SynclineError } from '@syncline/protocol';
import type * as v from 'valibot';
import { userParam } from '../http/api-params.js';
import { validate } from '../http/api-request.js';
import type { ApiRoute } from '../http/api-route.js';
import { ApiUser } from '../http/api-schemas.js';
import { MAX_USERS_PAGE, type UserDirectory } from './user-directory.js';
import {
  ApiConnectionId,
  ConnectionDisconnectBody,
  ConnectionDisconnectResponse,
  DEFAULT_USERS_PAGE,
  UserConnectionsResponse,
  UsersQuery,
  UsersResponse,
} from './user-directory-schemas.js';

/** What the user directory routes use: the users and connections of every node. */
export type UserDirectoryService = Pick<UserDirectory, 'users' | 'connections' | 'close'>;

function pageSize(limit: string | undefined): number {
  const n = limit === undefined ? DEFAULT_USERS_PAGE : Number(limit);
  if (n < 1 || n > MAX_USERS_PAGE) {
    throw new SynclineError('invalid_request', `Invalid query at "limit": expected 1 to ${MAX_USERS_PAGE}.`, {
      details: { path: 'limit', in: 'query', limit: MAX_USERS_PAGE },
    });
  }
  return n;
}

/**
 * The HTTP API routes that look into connected users (an operator's view):
 * a paged list of users, one user's connections, closing one connection.
 * Each covers every node that answers within `cluster.countWaitMs`.
 */
export function userDirectoryRoutes(directory: UserDirectoryService): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/users',
      operationId: 'listUsers',
      summary: 'Connected users on every node, by id, with their connection counts (paged by `after`).',
      query: UsersQuery,
      response: UsersResponse,
      errors: ['invalid_request', 'unavailable'],
      handle: async ({ query }) => {
        const q = query as v.InferOutput<typeof UsersQuery>;
        const limit = pageSize(q.limit);
        const page = await directory.users(q.prefix ?? '', q.after ?? '', limit);
        const { users, next, nodes, partial } = page;
        return { users, ...(next === undefined ? {} : { next }), nodes, partial };
      },
    },
    {
      method: 'GET',
      path: '/v1/users/:user/connections',
      operationId: 'listUserConnections',
      summary: 'Every connection of a user on every node: transport, versions, address, subscriptions.',
      params: { user: ApiUser },
      response: UserConnectionsResponse,
      errors: ['invalid_request', 'unavailable'],
      handle: async ({ params }) => {
        const user = userParam(params);
        return { user, ...(await directory.connections(user)) };
      },
    },
    {
      method: 'POST',
      path: '/v1/connections/:id/disconnect',
      operationId: 'disconnectConnection',
      summary: 'Close one connection, on whichever node holds it.',
      params: { id: ApiConnectionId },
      body: ConnectionDisconnectBody,
      bodyOptional: true,
      response: ConnectionDisconnectResponse,
      errors: ['invalid_request', 'not_found', 'unavailable'],
      handle: async ({ params, body }) => {
        const id = validate(ApiConnectionId, params.id, 'path');
        const b = body as v.InferOutput<typeof ConnectionDisconnectBody>;
        const reason = b.reason ?? 'disconnected by the HTTP API';
        const r = await directory.close(id, b.reconnect === false ? 'REVOKED' : 'FORCE_DISCONNECT', reason);
        if (r.disconnected === 0 && !r.partial) {
          throw new SynclineError('not_found', `No node has the connection ${id}.`, {
            details: { nodes: r.nodes },
          });
        }
        return { connection: id, ...r };
      },
    },
  ];
}
