import type { Codec } from '@syncline/protocol';

type Frame = string | Uint8Array;

/**
 * Encoding work shared by every session of a node. During a fan-out,
 * consecutive sessions flush the same frames in the same order, so the
 * batch is joined (and text UTF-8 encoded) once and the same bytes are
 * written to every connection, instead of once per connection. Only the last
 * batch and the last text are kept: a miss costs what no cache would.
 */
export class SharedFrames {
  #codec: Codec | undefined;
  #batch: Frame[] = [];
  #joined: Frame = '';
  #text: string | undefined;
  #bytes: Buffer = Buffer.alloc(0);

  /** `frames[start..end)` joined by `codec` into one batch frame; reused while the same frames come again. */
  batch(codec: Codec, frames: readonly Frame[], start: number, end: number): Frame {
    const n = end - start;
    const last = this.#batch;
    if (codec === this.#codec && last.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (frames[start + i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#joined;
    }
    this.#codec = codec;
    this.#batch = frames.slice(start, end);
    this.#joined = codec.join(this.#batch);
    return this.#joined;
  }

  /** UTF-8 bytes of `text`; the same buffer while the same text comes again (never modify it). */
  utf8(text: string): Buffer {
    if (text !== this.#text) {
      this.#text = text;
      this.#bytes = Buffer.from(text, 'utf8');
    }
    return this.#bytes;
  }
}

/** The node-wide instance (sessions flush one after another on one thread). */
export const sharedFrames = new SharedFrames();
