import * as v from 'valibot';
import { ApiUser } from '../http/api-schemas.js';
import { MAX_NAMES_PER_CONNECTION } from './connection-details.js';
import { MAX_CONNECTIONS_LISTED, MAX_USERS_PAGE } from './user-directory.js';

/** Page size of `GET /v1/users` without `limit`. */
export const DEFAULT_USERS_PAGE = 100;

/** Longest `prefix` and `after` of `GET /v1/users` (the longest user id). */
export const MAX_USER_PREFIX_LENGTH = 200;

const Count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** `GET /v1/users` query. */
export const UsersQuery = v.strictObject({
  prefix: v.optional(
    v.pipe(v.string(), v.maxLength(MAX_USER_PREFIX_LENGTH), v.description('Only users whose id starts with it.')),
  ),
  after: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(MAX_USER_PREFIX_LENGTH),
      v.description('Users whose id sorts after it (pass the previous page’s `next`).'),
    ),
  ),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,15}$/, 'Expected a non-negative integer.'),
      v.description(`Page size, 1–${MAX_USERS_PAGE}; default ${DEFAULT_USERS_PAGE}.`),
    ),
  ),
});

/** The `{id}` path parameter of a connection. */
export const ApiConnectionId = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'Expected a connection id.'),
  v.description('Connection id, as `GET /v1/users/{user}/connections` lists it.'),
);

/** `POST /v1/connections/{id}/disconnect` body (may be empty). */
export const ConnectionDisconnectBody = v.strictObject({
  reconnect: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        'false: close with `REVOKED`, so the client does not reconnect with the token it holds (the user is not revoked; default true).',
      ),
    ),
  ),
  reason: v.optional(v.pipe(v.string(), v.maxLength(120))),
});

/** How many nodes an answer covers (see the user routes). */
const ClusterNodes = v.object({
  answered: v.pipe(Count, v.description('Nodes whose reply is in the answer (the receiving node too).')),
  expected: v.pipe(Count, v.description('Nodes live when the call was made (the receiving node too).')),
});

const PartialFlag = v.pipe(v.boolean(), v.description('True when some node did not answer in time.'));

/** Response of `GET /v1/users`. */
export const UsersResponse = v.object({
  users: v.array(
    v.object({
      user: ApiUser,
      connections: v.pipe(Count, v.description('Connected sessions on every node that answered.')),
    }),
  ),
  next: v.optional(v.pipe(ApiUser, v.description('Pass as `after` for the next page; absent on the last page.'))),
  nodes: ClusterNodes,
  partial: PartialFlag,
});

const NameList = v.object({
  count: Count,
  names: v.pipe(v.array(v.string()), v.description(`The first ${MAX_NAMES_PER_CONNECTION} in sorted order.`)),
});

/** One connection. */
export const ApiConnection = v.object({
  id: ApiConnectionId,
  user: ApiUser,
  node: v.pipe(v.string(), v.description('Node the connection is on.')),
  transport: v.picklist(['websocket', 'sse', 'longpoll']),
  codec: v.picklist(['json', 'msgpack']),
  protocol: v.pipe(Count, v.description('Protocol version negotiated.')),
  app: v.optional(v.object({ version: v.string(), build: v.optional(v.string()) })),
  ip: v.pipe(v.string(), v.description('Client address as the node saw it (after `trustProxyHops`).')),
  connectedAt: v.pipe(Count, v.description('When the connection was accepted, ms since the epoch.')),
  channels: NameList,
  presence: v.pipe(NameList, v.description('Channels where the connection holds a presence entry.')),
  docs: NameList,
});

/** Response of `GET /v1/users/{user}/connections`. */
export const UserConnectionsResponse = v.object({
  user: ApiUser,
  connections: v.pipe(v.array(ApiConnection), v.description(`The oldest first, at most ${MAX_CONNECTIONS_LISTED}.`)),
  total: v.pipe(Count, v.description('Connections of the user on every node that answered.')),
  truncated: v.pipe(v.boolean(), v.description('True when `total` is more than the connections listed.')),
  nodes: ClusterNodes,
  partial: PartialFlag,
});

/** Response of `POST /v1/connections/{id}/disconnect`. */
export const ConnectionDisconnectResponse = v.object({
  connection: ApiConnectionId,
  disconnected: v.pipe(v.picklist([0, 1]), v.description('1: the node that had the connection closed it.')),
  nodes: ClusterNodes,
  partial: v.pipe(
    v.boolean(),
    v.description('True when no node that answered had the connection and some node did not answer.'),
  ),
});
