/**
 * Turns messages into frames and back. A frame holds one message or an array
 * of messages (batched by the sender within one tick).
 */
export interface Codec {
  /** Name negotiated through the WebSocket subprotocol (`syncline.json`). */
  readonly name: string;
  /** True when frames are binary. */
  readonly binary: boolean;
  /** Encodes one message or a batch of messages into one frame. */
  encode(message: unknown): string | Uint8Array;
  /** Decodes one frame; throws on malformed input. */
  decode(frame: string | Uint8Array): unknown;
}

const decoder = new TextDecoder();

/** JSON codec: text frames, `JSON.stringify`/`JSON.parse`. */
export const jsonCodec: Codec = {
  name: 'json',
  binary: false,
  encode(message) {
    return JSON.stringify(message);
  },
  decode(frame) {
    return JSON.parse(typeof frame === 'string' ? frame : decoder.decode(frame));
  },
};

/** WebSocket subprotocol name for a codec. */
export function subprotocolFor(codec: Codec): string {
  return `syncline.${codec.name}`;
}
