import * as v from 'valibot';
import { defaultRevocationTime } from '../auth/revocations.js';
import type { UserConnections } from '../core.js';
import { userParam } from '../http/api-params.js';
import type { ApiRoute } from '../http/api-route.js';
import {
  ApiUser,
  DisconnectBody,
  DisconnectResponse,
  RevocationResponse,
  RevokeBody,
  RevokeResponse,
  UnrevokeResponse,
  UserMessageBody,
  UserMessageResponse,
} from '../http/api-schemas.js';

/** What the user routes use of the server: operations on a user's connections on every node. */
export interface UserRouteServices {
  readonly users: UserConnections;
}

/** The HTTP API routes of users: disconnect, revoke, read and lift a revocation, messages. */
export function userRoutes(services: UserRouteServices): ApiRoute[] {
  return [
    {
      method: 'POST',
      path: '/v1/users/:user/disconnect',
      operationId: 'disconnectUser',
      summary: 'Disconnect every connection of a user; with `reconnect: false` also revoke their tokens.',
      params: { user: ApiUser },
      body: DisconnectBody,
      bodyOptional: true,
      response: DisconnectResponse,
      errors: ['invalid_request', 'unavailable'],
      handle: async ({ params, body }) => {
        const user = userParam(params);
        const b = body as v.InferOutput<typeof DisconnectBody>;
        const reason = b.reason ?? 'disconnected by the HTTP API';
        if (b.reconnect === false) {
          const r = services.users.revoke(user, defaultRevocationTime(), reason);
          const { total, nodes, partial } = await r.cluster;
          return { user, disconnected: total, revokedBefore: r.local.before, nodes, partial };
        }
        const { total, nodes, partial } = await services.users.disconnect(user, 'FORCE_DISCONNECT', reason).cluster;
        return { user, disconnected: total, nodes, partial };
      },
    },
    {
      method: 'POST',
      path: '/v1/users/:user/revoke',
      operationId: 'revokeUser',
      summary: "Refuse a user's tokens issued before a time and disconnect the connections holding them.",
      params: { user: ApiUser },
      body: RevokeBody,
      bodyOptional: true,
      response: RevokeResponse,
      errors: ['invalid_request', 'unavailable'],
      handle: async ({ params, body }) => {
        const user = userParam(params);
        const b = body as v.InferOutput<typeof RevokeBody>;
        const r = services.users.revoke(
          user,
          b.before ?? defaultRevocationTime(),
          b.reason ?? 'access revoked by the HTTP API',
        );
        const { total, nodes, partial } = await r.cluster;
        return { user, before: r.local.before, disconnected: total, nodes, partial };
      },
    },
    {
      method: 'GET',
      path: '/v1/users/:user/revoke',
      operationId: 'getRevocation',
      summary:
        "Whether a user is revoked and from when: as the answering node enforces it (other nodes' revocations and lifts reach it at once over the broker; it re-reads the shared store every few seconds).",
      params: { user: ApiUser },
      query: v.strictObject({}),
      response: RevocationResponse,
      errors: ['invalid_request'],
      handle: ({ params }) => {
        const user = userParam(params);
        const before = services.users.revocations.revokedBefore(user);
        return before === undefined ? { user, revoked: false } : { user, revoked: true, before };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/users/:user/revoke',
      operationId: 'unrevokeUser',
      summary: "Lift a user's revocation.",
      params: { user: ApiUser },
      response: UnrevokeResponse,
      errors: ['invalid_request', 'unavailable'],
      handle: async ({ params }) => {
        const user = userParam(params);
        const r = services.users.lift(user);
        await r.cluster;
        return { user, lifted: r.local };
      },
    },
    {
      method: 'POST',
      path: '/v1/users/:user/messages',
      operationId: 'sendToUser',
      summary: 'Send a message to every connection of a user (a `message` push).',
      params: { user: ApiUser },
      body: UserMessageBody,
      response: UserMessageResponse,
      errors: ['invalid_request', 'frame_too_large', 'unavailable'],
      handle: async ({ params, body }) => {
        const user = userParam(params);
        const b = body as v.InferOutput<typeof UserMessageBody>;
        const { total, nodes, partial } = await services.users.sendToUser(user, b.data).cluster;
        return { user, delivered: total, nodes, partial };
      },
    },
  ];
}
