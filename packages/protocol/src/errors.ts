/**
 * Every error code Syncline puts on the wire, grouped by what the client
 * should do about it:
 * - `bad-request`: the request is wrong; retrying it unchanged fails again.
 * - `auth`: get a fresh token (or different capabilities) and retry.
 * - `retry`: a temporary condition; retry with backoff (`retryAfterMs` hints).
 * - `fatal`: the client cannot continue as it is (upgrade, new identity).
 */
export const ERROR_CODES = {
  bad_frame: {
    group: 'bad-request',
    description: 'The frame could not be decoded (not JSON, not an object or array of objects).',
  },
  unknown_command: { group: 'bad-request', description: 'The command `type` is not one this server knows.' },
  invalid_command: { group: 'bad-request', description: 'A command field is missing or has the wrong type or size.' },
  frame_too_large: {
    group: 'bad-request',
    description: "The frame exceeds the server's `maxFrameBytes`; nothing in it was processed.",
  },
  not_connected: { group: 'bad-request', description: 'A command arrived before a successful `connect`.' },
  already_connected: { group: 'bad-request', description: '`connect` was sent twice on one connection.' },
  bad_channel: {
    group: 'bad-request',
    description: 'The channel or document name is malformed (expected `namespace:name` with allowed characters).',
  },
  unknown_namespace: {
    group: 'bad-request',
    description: 'The namespace of the channel or document is not configured on the server.',
  },
  already_subscribed: { group: 'bad-request', description: 'The connection is already subscribed to that channel.' },
  not_subscribed: {
    group: 'bad-request',
    description: 'The connection is not subscribed to that channel or document.',
  },
  publish_disabled: {
    group: 'bad-request',
    description:
      'Clients may not publish in this namespace (`allowPublish: "none"`); only the server and HTTP API can.',
  },
  limit_exceeded: {
    group: 'bad-request',
    description:
      'A per-connection, per-user or per-channel limit was reached (channels per connection, presence entries per user, members per channel); `details.limit` names it.',
  },
  not_found: { group: 'bad-request', description: 'The requested resource does not exist.' },
  method_not_allowed: {
    group: 'bad-request',
    description: 'The HTTP method is not allowed on this path; the `Allow` header lists those that are.',
  },
  invalid_request: {
    group: 'bad-request',
    description:
      'An HTTP API request body or parameter is missing, not JSON, or has the wrong type or size (`details.path` names the field).',
  },
  presence_disabled: {
    group: 'bad-request',
    description: 'Presence is not enabled in the namespace of this channel (namespace option `presence: true`).',
  },
  unknown_mutator: {
    group: 'bad-request',
    description:
      'The document namespace has no mutator of that name. The mutation id is used up (a resend is acknowledged as a duplicate); the document is unchanged.',
  },
  unknown_method: {
    group: 'bad-request',
    description: 'No RPC method of that name is defined on the server (config `rpc`).',
  },
  rpc_failed: {
    group: 'bad-request',
    description:
      "The RPC method's handler threw; its message is in `message`. The method may have done part of its work: RPCs are not retried.",
  },
  invalid_data: {
    group: 'bad-request',
    description:
      "The publication data or presence state failed the namespace's schema (`details.issues`: dotted path and message of each problem). Nothing is stored or sent.",
  },
  invalid_args: {
    group: 'bad-request',
    description:
      "The args failed the schema of the mutator or RPC method (`details.issues`). For a mutation the id is used up and the document is unchanged; an RPC's handler did not run.",
  },
  mutation_failed: {
    group: 'bad-request',
    description:
      'The mutator threw on the server (its message is in `message`). The mutation id is used up; the document is unchanged.',
  },
  schema_violation: {
    group: 'bad-request',
    description:
      "The mutation would leave the document invalid under the namespace's schema (`details.issues`). The mutation id is used up; the document is unchanged.",
  },
  mutation_timeout: {
    group: 'bad-request',
    description:
      "The mutator ran longer than the server's `limits.mutatorTimeoutMs` and was stopped; its changes were discarded. The mutation id is used up; the document is unchanged.",
  },
  doc_too_large: {
    group: 'bad-request',
    description:
      "The mutation would make the document's JSON larger than the namespace's `maxBytes` (`details.limit`, `details.bytes`). The mutation id is used up; the document is unchanged.",
  },
  mutation_out_of_order: {
    group: 'bad-request',
    description:
      "The mutation id skips ahead of the client's last applied id; `details.expected` is the id the server expects next. Nothing was applied.",
  },
  unauthorized: { group: 'auth', description: 'The token is missing, malformed, wrongly signed, or not accepted.' },
  token_expired: { group: 'auth', description: 'The token has expired; obtain a new one (`getToken`) and retry.' },
  forbidden: {
    group: 'auth',
    description: "The token's capabilities do not allow this operation on this channel or document.",
  },
  rate_limited: { group: 'retry', description: 'Too many requests; wait `retryAfterMs` before retrying.' },
  unavailable: {
    group: 'retry',
    description:
      'A backing service (storage, broker) is temporarily unavailable; retry with backoff. Nothing was stored.',
  },
  timeout: {
    group: 'retry',
    description: 'The request did not complete in time; its outcome is unknown unless it was idempotent.',
  },
  too_many_connections: {
    group: 'retry',
    description: 'The node is at its connection limit; reconnect later, possibly to another node.',
  },
  server_draining: {
    group: 'retry',
    description: 'The node is shutting down; reconnect (to another node) after a jittered delay.',
  },
  unsupported_protocol: {
    group: 'fatal',
    description:
      "The client's protocol version is outside the range this server supports (see `details.min`/`details.max`).",
  },
  client_outdated: {
    group: 'fatal',
    description:
      'The client is too old for this write: its app version is below the server\'s `minClientVersion` (`details.reason: "app"`) or its mutator set is below the namespace\'s `minMutatorVersion` (`details.reason: "mutators"`). Reads keep working; reload the app. Nothing was applied and no mutation id was used up.',
  },
  client_expired: {
    group: 'fatal',
    description:
      "The server no longer knows this client id on the document: its row was pruned after the namespace's `clientRetentionMs` without a mutation from it, so the server cannot tell which of its mutations were applied. Nothing was applied. The SDK rejects the pending mutations that may have been applied (sent before without a verdict) with this error, rolling them back, and sends the others under a new client id.",
  },
  revoked: {
    group: 'fatal',
    description: "The user's access was revoked; a new token issued after the revocation is required.",
  },
  slow_consumer: {
    group: 'retry',
    description:
      'The connection did not read fast enough and its send queue passed the limit; it was closed. Reconnect and recover.',
  },
  stream_reset: {
    group: 'retry',
    description:
      "The channel's history was lost (its epoch changed), so the server ended the subscription; the client resubscribes at once and gets `recovered: false`.",
  },
  session_not_found: {
    group: 'retry',
    description:
      'An SSE or long-polling request named an HTTP session that does not exist (never did, expired, or closed); open a new connection and recover.',
  },
  internal: {
    group: 'retry',
    description: 'An unexpected server error; the request was not applied. Retry with backoff.',
  },
} as const satisfies Record<string, { group: ErrorGroup; description: string }>;

/** What a client should do about an error. */
export type ErrorGroup = 'bad-request' | 'auth' | 'retry' | 'fatal';

/** Any error code on the wire. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Client-side only codes: produced by the SDK itself, never sent by a server. */
export const CLIENT_ERROR_CODES = {
  client_closed: { group: 'fatal', description: 'The client was closed with `close()`; the request was not sent.' },
  request_timeout: {
    group: 'retry',
    description:
      'No reply arrived within `requestTimeoutMs`; the outcome is unknown unless the request was idempotent.',
  },
  connection_lost: { group: 'retry', description: 'The connection dropped before a reply arrived.' },
} as const satisfies Record<string, { group: ErrorGroup; description: string }>;

/** Any code a `SynclineError` can carry. */
export type AnyErrorCode = ErrorCode | keyof typeof CLIENT_ERROR_CODES;

/** True when `code` is a known wire error code. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The group of any known code (`retry` for unknown ones). */
export function errorGroup(code: string): ErrorGroup {
  if (isErrorCode(code)) return ERROR_CODES[code].group;
  if (Object.hasOwn(CLIENT_ERROR_CODES, code)) return CLIENT_ERROR_CODES[code as keyof typeof CLIENT_ERROR_CODES].group;
  return 'retry';
}

/** Extra facts an error may carry. */
export interface SynclineErrorOptions {
  readonly cause?: unknown;
  readonly retryAfterMs?: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The one error type of Syncline, on the server and the client. */
export class SynclineError extends Error {
  override readonly name = 'SynclineError';
  readonly code: AnyErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: AnyErrorCode, message: string, options: SynclineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }

  /** What a client should do about this error. */
  get group(): ErrorGroup {
    return errorGroup(this.code);
  }
}

/** Longest message `thrownMessage` returns, characters. */
export const MAX_THROWN_MESSAGE_CHARS = 500;

/**
 * A readable message for any thrown value, without ever throwing itself: an
 * `Error`'s message, a string as is, an object's `message` string or its
 * JSON, anything else converted; at most `MAX_THROWN_MESSAGE_CHARS`. Safe on
 * hostile values (objects without a prototype, throwing getters, proxies).
 */
export function thrownMessage(err: unknown): string {
  let text: string;
  try {
    text = describeThrown(err);
  } catch {
    text = 'a value that cannot be described';
  }
  return text.length > MAX_THROWN_MESSAGE_CHARS ? `${text.slice(0, MAX_THROWN_MESSAGE_CHARS - 1)}…` : text;
}

function describeThrown(err: unknown): string {
  if (typeof err === 'string') return err;
  if (typeof err === 'symbol') return err.toString();
  if (typeof err === 'function') return `a function (${err.name || 'anonymous'})`;
  if (typeof err !== 'object' || err === null) return String(err);
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  try {
    const json = JSON.stringify(err);
    if (json !== undefined) return json;
  } catch {
    // cyclic, or a throwing toJSON: described by its tag below
  }
  return Object.prototype.toString.call(err);
}

/** Turns any thrown value into a `SynclineError` (unknown errors become `internal`); never throws. */
export function toSynclineError(err: unknown): SynclineError {
  if (err instanceof SynclineError) return err;
  return new SynclineError('internal', thrownMessage(err), { cause: err });
}
