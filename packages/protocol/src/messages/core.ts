import * as v from 'valibot';
import { Json, Name, RequestId, StreamPosition, Token } from './common.js';

/** First command on every connection. */
export const ConnectCommand = v.object({
  type: v.literal('connect'),
  id: RequestId,
  protocol: v.pipe(v.number(), v.integer()),
  /** Oldest protocol version the client can speak (protocol 2+): lets an older server answer with its own. */
  minProtocol: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  token: v.optional(Token),
  client: v.optional(
    v.object({
      name: v.optional(v.pipe(v.string(), v.maxLength(100))),
      version: v.optional(v.pipe(v.string(), v.maxLength(100))),
    }),
  ),
  app: v.optional(
    v.object({
      version: v.pipe(v.string(), v.maxLength(100)),
      build: v.optional(v.pipe(v.string(), v.maxLength(100))),
    }),
  ),
  /**
   * Opaque data for the app's backend (a session cookie, an app token): a
   * server with a connect proxy authenticates a connect without `token` by
   * asking the backend with it. Ignored otherwise.
   */
  data: v.optional(Json),
});

/** Subscribe to a channel, optionally recovering from a known position. */
export const SubscribeCommand = v.object({
  type: v.literal('subscribe'),
  id: RequestId,
  channel: Name,
  since: v.optional(StreamPosition),
});

/** Stop receiving a channel. */
export const UnsubscribeCommand = v.object({
  type: v.literal('unsubscribe'),
  id: RequestId,
  channel: Name,
});

/** Publish to a channel; `key` makes a resend idempotent within the history window. */
export const PublishCommand = v.object({
  type: v.literal('publish'),
  id: RequestId,
  channel: Name,
  data: Json,
  key: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
});

/** Read retained history of a channel, after offset `since` (exclusive). */
export const HistoryCommand = v.object({
  type: v.literal('history'),
  id: RequestId,
  channel: Name,
  since: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000))),
});

/** Replace the connection's token in band (before it expires). */
export const RefreshCommand = v.object({
  type: v.literal('refresh'),
  id: RequestId,
  token: Token,
});

/** Heartbeat frames, in both directions. */
export const PingCommand = v.object({ type: v.literal('ping') });
export const PongCommand = v.object({ type: v.literal('pong') });

/** Schemas of the core commands, by `type`. */
export const CORE_COMMANDS = {
  connect: ConnectCommand,
  subscribe: SubscribeCommand,
  unsubscribe: UnsubscribeCommand,
  publish: PublishCommand,
  history: HistoryCommand,
  refresh: RefreshCommand,
  ping: PingCommand,
  pong: PongCommand,
} as const;
