/**
 * Wire protocol version spoken by this build. It changes only when the shape
 * or meaning of a frame changes; app versions are announced separately.
 */
export const PROTOCOL_VERSION = 3;

/** Oldest protocol version a server of this build still accepts (and a client of this build can fall back to). */
export const MIN_PROTOCOL_VERSION = 1;

/** What changed in each protocol version, newest last. */
export const PROTOCOL_CHANGELOG: ReadonlyArray<{ readonly version: number; readonly changes: string }> = [
  {
    version: 1,
    changes:
      'First version: connect, subscribe (with recovery), unsubscribe, publish (idempotent), history, refresh, ping/pong; replies, errors, publications, server-side unsubscribe and disconnect pushes.',
  },
  {
    version: 2,
    changes:
      'Version negotiation and app updates. `connect` may carry `minProtocol` (the oldest version the client can speak): a server older than the client answers with its own newest version instead of refusing. The connect reply carries `update` (the verdict on the announced app version) and lists the `app-update` feature; the server pushes `update` when the verdict changes. Nothing a v1 client sends or receives changed: v1 sessions get neither `update` field nor push.',
  },
  {
    version: 3,
    changes:
      "Large sets arrive in parts (`presence-parts`): a `presence.state` whose member list is large is sent as several messages with `part` (0, 1, …) and `more: true` on all but the last, paced against the connection's send queue; the client applies the list once the last part is in. Sessions on protocol 1 and 2 get the whole list in one message, as before. Node status (`status`): the node pushes `{ type: 'status', degraded, reason, down }` when it loses or gets back its broker or document storage, and the connect reply carries `status` when the client connects to a degraded node; commands needing the lost backend answer `unavailable` with `retryAfterMs` meanwhile. Sessions on protocol 1 and 2 get no `status` push or field.",
  },
];

/**
 * Optional features, by the protocol version that introduced them. A server
 * lists in the connect reply's `features` those the negotiated version has.
 */
export const PROTOCOL_FEATURES = {
  /** `update` in the connect reply and `update` pushes. */
  'app-update': 2,
  /** `presence.state` in parts (`part`, `more`). */
  'presence-parts': 3,
  /** `status` pushes and connect-reply field: the node lost (or got back) its broker or document storage. */
  status: 3,
} as const;

/** A feature name of `PROTOCOL_FEATURES`. */
export type ProtocolFeature = keyof typeof PROTOCOL_FEATURES;

/** Features available at a protocol version. */
export function protocolFeatures(protocol: number): ProtocolFeature[] {
  return (Object.keys(PROTOCOL_FEATURES) as ProtocolFeature[]).filter((f) => PROTOCOL_FEATURES[f] <= protocol);
}

/**
 * The protocol version a server speaking `min..max` uses with a client that
 * asked for `requested` and can fall back to `clientMin` (default: no
 * fallback). The requested version when the server has it; the server's
 * newest when the client is newer and can fall back that far; otherwise
 * undefined (refuse with `unsupported_protocol`).
 */
export function negotiateProtocol(
  requested: number,
  clientMin: number | undefined,
  min: number = MIN_PROTOCOL_VERSION,
  max: number = PROTOCOL_VERSION,
): number | undefined {
  if (requested >= min && requested <= max) return requested;
  if (requested > max && (clientMin ?? requested) <= max && max >= min) return max;
  return undefined;
}
