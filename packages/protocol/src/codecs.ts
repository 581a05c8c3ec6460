import { type Codec, type CodecName, jsonCodec, SUBPROTOCOL_PREFIX } from './codec.js';
import { HANDSHAKE_CONNECT_SUFFIX } from './handshake-connect.js';
import { msgpackCodec } from './msgpack-codec.js';

/** Every codec, by name. */
export const CODECS: Readonly<Record<CodecName, Codec>> = { json: jsonCodec, msgpack: msgpackCodec };

/** The codec a WebSocket subprotocol names (`syncline.msgpack`, or `syncline.msgpack.connect` of the handshake connect), if any. */
export function codecOfSubprotocol(subprotocol: string): Codec | undefined {
  if (!subprotocol.startsWith(SUBPROTOCOL_PREFIX)) return undefined;
  const end = subprotocol.endsWith(HANDSHAKE_CONNECT_SUFFIX) ? -HANDSHAKE_CONNECT_SUFFIX.length : undefined;
  const name = subprotocol.slice(SUBPROTOCOL_PREFIX.length, end);
  return Object.hasOwn(CODECS, name) ? CODECS[name as CodecName] : undefined;
}
