import { type Codec, type CodecName, jsonCodec, SUBPROTOCOL_PREFIX } from './codec.js';
import { msgpackCodec } from './msgpack-codec.js';

/** Every codec, by name. */
export const CODECS: Readonly<Record<CodecName, Codec>> = { json: jsonCodec, msgpack: msgpackCodec };

/** The codec a WebSocket subprotocol names (`syncline.msgpack`), if any. */
export function codecOfSubprotocol(subprotocol: string): Codec | undefined {
  if (!subprotocol.startsWith(SUBPROTOCOL_PREFIX)) return undefined;
  const name = subprotocol.slice(SUBPROTOCOL_PREFIX.length);
  return Object.hasOwn(CODECS, name) ? CODECS[name as CodecName] : undefined;
}
