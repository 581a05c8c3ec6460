/**
 * Encoding work shared by every session of a node. During a fan-out,
 * consecutive sessions flush the same frames in the same order, so the
 * batch is joined and UTF-8 encoded once and the same bytes are written to
 * every connection, instead of once per connection. Only the last batch and
 * the last text are kept: a miss costs what no cache would.
 */
export class SharedFrames {
  #batch: string[] = [];
  #batchText = '';
  #text: string | undefined;
  #bytes: Buffer = Buffer.alloc(0);

  /** `[frames[start..end)]` as one JSON-array frame; reused while the same frames come again. */
  batch(frames: readonly string[], start: number, end: number): string {
    const n = end - start;
    const last = this.#batch;
    if (last.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (frames[start + i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#batchText;
    }
    this.#batch = frames.slice(start, end);
    this.#batchText = `[${this.#batch.join(',')}]`;
    return this.#batchText;
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
