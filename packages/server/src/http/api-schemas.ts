import { MAX_NAME_LENGTH } from '@syncline/protocol';
import * as v from 'valibot';

/**
 * Valibot schemas of the HTTP API: request bodies and query strings are
 * validated with them, and the OpenAPI document is generated from them, so
 * the two cannot drift apart.
 */

/** A channel name `namespace:name` (its syntax and namespace are checked after parsing). */
export const ApiChannel = v.pipe(
  v.string(),
  v.minLength(3),
  v.maxLength(MAX_NAME_LENGTH),
  v.description('Channel name `namespace:name`.'),
);

/** A user id (the `sub` of their tokens). */
export const ApiUser = v.pipe(v.string(), v.minLength(1), v.maxLength(200), v.description('User id (token `sub`).'));

/** Idempotency key of a publication. */
export const ApiIdempotencyKey = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(128),
  v.description('Idempotency key: a resend with the same key within the history window is not published again.'),
);

const Offset = v.pipe(v.number(), v.integer(), v.minValue(0));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Timestamp = v.pipe(v.number(), v.integer(), v.description('Milliseconds since the Unix epoch.'));

/** `POST /v1/publish` body. */
export const PublishBody = v.strictObject({
  channel: ApiChannel,
  data: v.pipe(v.unknown(), v.description('Any JSON value.')),
  key: v.optional(ApiIdempotencyKey),
});

/** Most publications in one batch. */
export const MAX_BATCH_PUBLICATIONS = 100;

/** `POST /v1/publish/batch` body. */
export const BatchPublishBody = v.strictObject({
  publications: v.pipe(v.array(PublishBody), v.minLength(1), v.maxLength(MAX_BATCH_PUBLICATIONS)),
});

/** `POST /v1/users/{user}/disconnect` body (may be empty). */
export const DisconnectBody = v.strictObject({
  reconnect: v.optional(
    v.pipe(
      v.boolean(),
      v.description('false: also revoke the user, so reconnecting needs a token issued after now (default true).'),
    ),
  ),
  reason: v.optional(v.pipe(v.string(), v.maxLength(120))),
});

/** `POST /v1/users/{user}/revoke` body (may be empty). */
export const RevokeBody = v.strictObject({
  before: v.optional(
    v.pipe(
      Timestamp,
      v.minValue(0),
      v.description('Refuse tokens issued before this time (default: every token issued up to now).'),
    ),
  ),
  reason: v.optional(v.pipe(v.string(), v.maxLength(120))),
});

/** `POST /v1/users/{user}/messages` body. */
export const UserMessageBody = v.strictObject({
  data: v.pipe(v.unknown(), v.description('Any JSON value, delivered as a `message` push.')),
});

const DigitsQuery = v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'Expected a non-negative integer.'));

/** `GET /v1/channels/{channel}/history` query. */
export const HistoryQuery = v.strictObject({
  since: v.optional(
    v.pipe(DigitsQuery, v.description('Return publications after this offset (exclusive); default 0.')),
  ),
  before: v.optional(
    v.pipe(
      DigitsQuery,
      v.description(
        'Read backwards: the newest publications before this offset (exclusive), in offset order; not with `since`.',
      ),
    ),
  ),
  limit: v.optional(v.pipe(DigitsQuery, v.description('Page size, 1–1000; default 100.'))),
});

/** A channel name (or its beginning) in a query string. */
const NameQuery = v.pipe(v.string(), v.maxLength(MAX_NAME_LENGTH));

/** `GET /v1/channels` query. */
export const ChannelsQuery = v.strictObject({
  prefix: v.optional(v.pipe(NameQuery, v.description('Only channels starting with it.'))),
  after: v.optional(
    v.pipe(NameQuery, v.description('Only channels sorted after this name (exclusive): the `next` of a page.')),
  ),
  limit: v.optional(v.pipe(DigitsQuery, v.description('Most channels returned, 1–10000; default 1000.'))),
});

// ---- responses (documentation only) ----

/** Where a publication landed. */
export const PublishResponse = v.object({
  channel: ApiChannel,
  offset: Offset,
  epoch: v.string(),
  duplicate: v.pipe(v.boolean(), v.description('True when the key was used before; nothing new was published.')),
});

/** Results of a batch, in request order. */
export const BatchPublishResponse = v.object({ results: v.array(PublishResponse) });

const PublicationSchema = v.object({
  offset: Offset,
  data: v.unknown(),
  ts: Timestamp,
  user: v.optional(v.string()),
});

/** One page of history. */
export const HistoryResponse = v.object({
  channel: ApiChannel,
  epoch: v.string(),
  offset: v.pipe(Offset, v.description('Offset of the newest publication in the channel.')),
  minOffset: v.pipe(Offset, v.description('Oldest retained offset (0: none retained).')),
  publications: v.array(PublicationSchema),
  next: v.optional(
    v.pipe(Offset, v.description('Pass as `since` to read the publications after this page; absent when none follow.')),
  ),
  prev: v.optional(
    v.pipe(
      Offset,
      v.description('Pass as `before` to read the retained publications before this page; absent when none are left.'),
    ),
  ),
});

const PresenceEntrySchema = v.object({
  clientId: v.string(),
  state: v.unknown(),
  enteredAt: Timestamp,
  updatedAt: Timestamp,
});

/** Most members on one page of `GET /v1/channels/{channel}/presence`. */
export const MAX_PRESENCE_PAGE = 10_000;

/** `GET /v1/channels/{channel}/presence` query. */
export const PresenceQuery = v.strictObject({
  after: v.optional(
    v.pipe(ApiUser, v.description('Only members whose user id sorts after it (exclusive): the `next` of a page.')),
  ),
  limit: v.optional(
    v.pipe(DigitsQuery, v.description(`Most members returned, 1–${MAX_PRESENCE_PAGE}; default: all of them.`)),
  ),
});

/** A channel's presence set, grouped by user. */
export const PresenceResponse = v.object({
  channel: ApiChannel,
  seq: Count,
  members: v.array(
    v.object({
      user: ApiUser,
      info: v.optional(v.unknown()),
      entries: v.array(PresenceEntrySchema),
    }),
  ),
  next: v.optional(v.pipe(ApiUser, v.description('Pass as `after` to read the next page; absent on the last page.'))),
});

const ChannelCounts = {
  subscribers: v.pipe(Count, v.description('Connections subscribed, over every node.')),
  present: v.pipe(Count, v.description('Presence entries, over every node.')),
};

/** Active channels, one page sorted by name. */
export const ChannelsResponse = v.object({
  channels: v.array(v.object({ channel: ApiChannel, ...ChannelCounts })),
  next: v.optional(
    v.pipe(ApiChannel, v.description('Pass as `after` to read the next page; absent on the last page.')),
  ),
});

/** A channel's namespace options (what an operator needs; no schemas or secrets). */
const NamespaceInfo = v.object({
  name: v.string(),
  history: v.object({
    size: v.pipe(Count, v.description('Publications kept per channel (0: none).')),
    ttlMs: v.pipe(Count, v.description('How long a publication is kept, ms.')),
  }),
  allowPublish: v.picklist(['clients', 'subscribers', 'none']),
  recover: v.boolean(),
  recoverWindowMs: Count,
  presence: v.boolean(),
  presenceMaxMembers: v.optional(v.pipe(Count, v.description('With presence: most entries per channel.'))),
  dataSchema: v.pipe(v.boolean(), v.description('Whether publication data is checked by a schema.')),
  presenceStateSchema: v.pipe(v.boolean(), v.description('Whether presence state is checked by a schema.')),
  publicationWebhooks: v.pipe(Count, v.description("Webhook entries that receive the namespace's publications.")),
});

/** One channel: its namespace, stream position and counts. */
export const ChannelDetailResponse = v.object({
  channel: ApiChannel,
  namespace: NamespaceInfo,
  epoch: v.string(),
  offset: v.pipe(Offset, v.description('Offset of the newest publication (0: none yet).')),
  minOffset: v.pipe(Offset, v.description('Oldest retained offset (0: none retained).')),
  ...ChannelCounts,
});
/** The nodes whose counts a user operation's answer sums. */
const ClusterNodes = v.pipe(
  v.object({
    answered: v.pipe(Count, v.description('Nodes whose count is included (the receiving node too).')),
    expected: v.pipe(
      Count,
      v.description('Nodes that were live when the operation was sent (the receiving node too).'),
    ),
  }),
  v.description('Every live node applies the operation; those that answered within the wait are counted.'),
);

/** Says whether some node did not answer in time. */
const PartialFlag = v.pipe(v.boolean(), v.description('True when `answered < expected`: the count may be short.'));

const connectionsClosed = 'Connections closed on every node that answered.';

/** Result of a disconnect. */
export const DisconnectResponse = v.object({
  user: ApiUser,
  disconnected: v.pipe(Count, v.description(connectionsClosed)),
  revokedBefore: v.optional(Timestamp),
  nodes: ClusterNodes,
  partial: PartialFlag,
});

/** Result of a revocation. */
export const RevokeResponse = v.object({
  user: ApiUser,
  before: Timestamp,
  disconnected: v.pipe(Count, v.description(connectionsClosed)),
  nodes: ClusterNodes,
  partial: PartialFlag,
});

/** A user's revocation as the answering node enforces it. */
export const RevocationResponse = v.object({
  user: ApiUser,
  revoked: v.pipe(v.boolean(), v.description("True when some of the user's tokens are refused.")),
  before: v.optional(
    v.pipe(Timestamp, v.description('Tokens issued before it are refused (absent when `revoked` is false).')),
  ),
});

/** Result of lifting a revocation. */
export const UnrevokeResponse = v.object({ user: ApiUser, lifted: v.boolean() });

/** Result of a user message. */
export const UserMessageResponse = v.object({
  user: ApiUser,
  delivered: v.pipe(Count, v.description('Connections the message was queued on, on every node that answered.')),
  nodes: ClusterNodes,
  partial: PartialFlag,
});

/** Every error response. */
export const ErrorResponse = v.object({
  error: v.object({
    code: v.pipe(v.string(), v.description('A documented error code (docs/protocol.md).')),
    message: v.string(),
    retryAfterMs: v.optional(v.number()),
    details: v.optional(v.record(v.string(), v.unknown())),
  }),
});
