import type { Codec } from '@syncline/protocol';

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
  #codec: Codec | undefined;
  #frame: string | Uint8Array | undefined;
  /** Encodings for other codecs than the first one asked (sessions of mixed codecs). */
  #others: Map<Codec, string | Uint8Array> | undefined;

  constructor(message: M, encoded?: { readonly codec: Codec; readonly frame: string | Uint8Array }) {
    this.message = message;
    if (encoded !== undefined) {
      this.#codec = encoded.codec;
      this.#frame = encoded.frame;
    }
  }

  /** The message encoded by `codec` (the same value every time). */
  frameFor(codec: Codec): string | Uint8Array {
    if (codec === this.#codec) return this.#frame as string | Uint8Array;
    if (this.#codec === undefined) {
      this.#codec = codec;
      this.#frame = codec.encode(this.message);
      return this.#frame;
    }
    this.#others ??= new Map();
    let frame = this.#others.get(codec);
    if (frame === undefined) {
      frame = codec.encode(this.message);
      this.#others.set(codec, frame);
    }
    return frame;
  }
}
