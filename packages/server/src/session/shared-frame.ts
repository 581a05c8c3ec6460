import type { Codec } from '@syncline/protocol';

/**
 * A frame of `codec` made without encoding the message (around text the
 * caller already has): `frame`, or `frame()` to make it only when a session
 * of that codec asks (sessions of another codec never pay for it). It must
 * be the frame `codec.encode(message)` gives.
 */
export interface PreEncoded {
  readonly codec: Codec;
  readonly frame: string | Uint8Array | (() => string | Uint8Array);
}

/**
 * One message sent to many sessions (a publication, a document patch, a
 * presence change, a ping): encoded at most once per codec in use, however
 * many sessions receive it. A frame already encoded elsewhere (a patch read
 * from the cluster bus as JSON) can be handed in to skip that encoding.
 */
export class SharedFrame<M extends object = object> {
  readonly message: M;
  /**
   * When this frame's publication was sampled for delivery timing: the time
   * (`performance.now()`, ms) it arrived on the node; undefined otherwise.
   */
  sampledAt: number | undefined = undefined;
  /** The codec of the first frame made, and that frame. */
  #codec: Codec | undefined;
  #frame: string | Uint8Array | undefined;
  /** Encodings for other codecs than the first one asked (sessions of mixed codecs). */
  #others: Map<Codec, string | Uint8Array> | undefined;
  /** The frame handed in for one codec, until a session of that codec asks for it. */
  #pre: PreEncoded | undefined;

  constructor(message: M, encoded?: PreEncoded) {
    this.message = message;
    this.#pre = encoded;
  }

  /** The message encoded by `codec` (the same value every time). */
  frameFor(codec: Codec): string | Uint8Array {
    if (codec === this.#codec) return this.#frame as string | Uint8Array;
    if (this.#codec === undefined) {
      this.#codec = codec;
      this.#frame = this.#encode(codec);
      return this.#frame;
    }
    this.#others ??= new Map();
    let frame = this.#others.get(codec);
    if (frame === undefined) {
      frame = this.#encode(codec);
      this.#others.set(codec, frame);
    }
    return frame;
  }

  #encode(codec: Codec): string | Uint8Array {
    const pre = this.#pre;
    if (pre === undefined || pre.codec !== codec) return codec.encode(this.message);
    this.#pre = undefined;
    return typeof pre.frame === 'function' ? pre.frame() : pre.frame;
  }
}
