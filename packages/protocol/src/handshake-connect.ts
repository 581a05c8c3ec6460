import { encodeBase64 } from './base64.js';
import { type Codec, subprotocolFor } from './codec.js';

/**
 * The handshake connect: a WebSocket client may carry its whole `connect`
 * command in the upgrade request, as one `Sec-WebSocket-Protocol` entry, so
 * the server answers it in the same write as the upgrade response. The client
 * offers, in this order, `syncline.<codec>.connect`, the plain
 * `syncline.<codec>`, then `syncline.c.<base64url of the command's JSON>`.
 * A server that runs the carried command selects the `.connect` subprotocol;
 * one that does not selects the plain one and waits for a `connect` frame.
 */

/** Suffix of the subprotocol a server selects when it runs the carried `connect` (`syncline.json.connect`). */
export const HANDSHAKE_CONNECT_SUFFIX = '.connect';

/** Prefix of the subprotocol entry that carries the `connect` command. */
export const HANDSHAKE_COMMAND_PREFIX = 'syncline.c.';

/** Most base64url characters of a carried `connect` (after the prefix); a longer one is refused with `frame_too_large`. */
export const MAX_HANDSHAKE_CONNECT_CHARS = 8192;

/** The subprotocol a server selects when it runs the carried `connect` of a client of `codec`. */
export function handshakeSubprotocolFor(codec: Codec): string {
  return `${subprotocolFor(codec)}${HANDSHAKE_CONNECT_SUFFIX}`;
}

/** `text` as unpadded base64url (RFC 4648 §5) of its UTF-8 bytes. */
export function encodeBase64Url(text: string): string {
  return encodeBase64(new TextEncoder().encode(text)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The subprotocols a client of `codec` offers to carry `connect` in its
 * upgrade request (see above). Undefined when the command is too long to be
 * carried: the client then sends it as a frame.
 */
export function handshakeSubprotocols(codec: Codec, connect: object): string[] | undefined {
  const encoded = encodeBase64Url(JSON.stringify(connect));
  if (encoded.length > MAX_HANDSHAKE_CONNECT_CHARS) return undefined;
  return [handshakeSubprotocolFor(codec), subprotocolFor(codec), `${HANDSHAKE_COMMAND_PREFIX}${encoded}`];
}
