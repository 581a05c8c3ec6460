/**
 * Turns messages into frames and back. A frame holds one message or an array
 * of messages (batched by the sender within one tick).
 */
export interface Codec {
  /** Name negotiated through the WebSocket subprotocol (`syncline.json`) or the HTTP transports' `codec` parameter. */
  readonly name: CodecName;
  /** Name of the format in error messages (`JSON`, `MessagePack`). */
  readonly label: string;
  /** True when frames are binary. */
  readonly binary: boolean;
  /** Encodes one message or a batch of messages into one frame. */
  encode(message: unknown): string | Uint8Array;
  /** Decodes one frame; throws on malformed input. */
  decode(frame: string | Uint8Array): unknown;
  /**
   * One frame holding already-encoded messages (frames of this codec, each
   * one message) as a batch, in order: the same frame `encode` gives for the
   * array of those messages, without encoding them again.
   */
  join(frames: readonly (string | Uint8Array)[]): string | Uint8Array;
}

/** Names of the codecs every server and client speaks. */
export const CODEC_NAMES = ['json', 'msgpack'] as const;

/** Name of a codec. */
export type CodecName = (typeof CODEC_NAMES)[number];

/** True when `name` names a codec. */
export function isCodecName(name: unknown): name is CodecName {
  return typeof name === 'string' && (CODEC_NAMES as readonly string[]).includes(name);
}

const decoder = new TextDecoder();

/** JSON codec: text frames, `JSON.stringify`/`JSON.parse`. */
export const jsonCodec: Codec = {
  name: 'json',
  label: 'JSON',
  binary: false,
  encode(message) {
    return JSON.stringify(message);
  },
  decode(frame) {
    return JSON.parse(typeof frame === 'string' ? frame : decoder.decode(frame));
  },
  join(frames) {
    return `[${frames.map((f) => (typeof f === 'string' ? f : decoder.decode(f))).join(',')}]`;
  },
};

/** Prefix of the WebSocket subprotocol names (`syncline.json`, `syncline.msgpack`). */
export const SUBPROTOCOL_PREFIX = 'syncline.';

/** WebSocket subprotocol name for a codec. */
export function subprotocolFor(codec: Codec): string {
  return `${SUBPROTOCOL_PREFIX}${codec.name}`;
}

/** Query parameter (and, as `x-syncline-codec`, header) that picks the codec of an SSE or long-polling session. */
export const CODEC_PARAM = 'codec';
