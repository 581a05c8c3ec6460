/**
 * WebSocket close codes Syncline uses (4000–4999 are application codes).
 * `reconnect` tells the client whether reconnecting automatically makes sense.
 */
export const CLOSE_CODES = {
  NORMAL: { code: 1000, reconnect: false, description: 'Closed on purpose by the client.' },
  FRAME_TOO_LARGE: {
    code: 1009,
    reconnect: true,
    description: 'A frame exceeded the hard transport limit (far above `maxFrameBytes`).',
  },
  UNAUTHORIZED: {
    code: 4001,
    reconnect: false,
    description:
      'The connect token was missing, malformed or wrongly signed. The client reconnects only if `getToken` can supply a new token.',
  },
  TOKEN_EXPIRED: {
    code: 4002,
    reconnect: true,
    description:
      'The token expired (at connect, or while connected without a refresh). The client gets a new token and reconnects.',
  },
  PROTOCOL_ERROR: { code: 4003, reconnect: false, description: 'The first frame was not a valid `connect` command.' },
  CONNECT_TIMEOUT: {
    code: 4004,
    reconnect: true,
    description: 'No `connect` command arrived within `connectTimeoutMs`.',
  },
  UNSUPPORTED_PROTOCOL: {
    code: 4005,
    reconnect: false,
    description: 'The client speaks a protocol version this server does not support.',
  },
  HEARTBEAT_TIMEOUT: { code: 4006, reconnect: true, description: 'The peer did not answer pings in time.' },
  SLOW_CONSUMER: {
    code: 4007,
    reconnect: true,
    description: 'The send queue passed `maxQueueBytes` because the client did not read fast enough.',
  },
  SHUTDOWN: {
    code: 4008,
    reconnect: true,
    description: 'The node is draining or shutting down; reconnect (to another node) after a jittered delay.',
  },
  TOO_MANY_CONNECTIONS: {
    code: 4009,
    reconnect: true,
    description: 'The node or the user is at its connection limit; retry later with backoff.',
  },
  FORCE_DISCONNECT: {
    code: 4010,
    reconnect: true,
    description: 'Disconnected by the server or its HTTP API; reconnecting is allowed.',
  },
  REVOKED: {
    code: 4011,
    reconnect: false,
    description:
      'Access revoked; the client reconnects only with a token issued after the revocation (via `getToken`).',
  },
  INTERNAL: { code: 4012, reconnect: true, description: 'Unexpected server error; reconnect with backoff.' },
} as const satisfies Record<string, { code: number; reconnect: boolean; description: string }>;

/** Name of a close code. */
export type CloseCodeName = keyof typeof CLOSE_CODES;

/** Looks a numeric close code up; undefined for codes Syncline does not define. */
export function closeCodeInfo(
  code: number,
): { name: CloseCodeName; reconnect: boolean; description: string } | undefined {
  for (const [name, info] of Object.entries(CLOSE_CODES)) {
    if (info.code === code)
      return { name: name as CloseCodeName, reconnect: info.reconnect, description: info.description };
  }
  return undefined;
}
