import type { Codec } from '@syncline/protocol';
import { sharedFrames } from './shared-frames.js';

/** Largest run of queued frames written as one batch, bytes (characters for text frames). */
export const MAX_FRAME_CHUNK_BYTES = 64 * 1024;

/** One encoded message: text for text codecs, bytes for binary ones. */
export type Frame = string | Uint8Array;

/**
 * The frames a session has queued this tick: one alone as is (the common case
 * of a fan-out, no array allocated), more in an array. `undefined` is empty.
 */
export type Outbox = Frame | Frame[] | undefined;

/**
 * Size of a frame as the send queue counts it: characters of text, bytes of
 * binary. A `Uint8Array`'s `length` is its byte count, and V8 reads it at
 * about half the cost of `byteLength` on the `Buffer`s frames are; this runs
 * per frame per subscriber. (Two reads, so each sees one kind of value.)
 */
export function frameSize(frame: Frame): number {
  return typeof frame === 'string' ? frame.length : frame.length;
}

/** Adds a frame to an outbox and returns the outbox to keep (the array is grown in place). */
export function appendFrame(out: Outbox, frame: Frame): Frame | Frame[] {
  if (out === undefined) return frame;
  if (!Array.isArray(out)) return [out, frame];
  out.push(frame);
  return out;
}

/**
 * Writes a taken outbox in order: a frame alone as is, runs of frames as
 * batches (`codec.join`) of at most about `MAX_FRAME_CHUNK_BYTES` each.
 */
export function writeBatched(codec: Codec, out: Frame | Frame[], write: (frame: Frame) => void): void {
  if (!Array.isArray(out)) {
    write(out);
    return;
  }
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < out.length; i++) {
    bytes += frameSize(out[i] as Frame) + 1;
    if (bytes >= MAX_FRAME_CHUNK_BYTES || i === out.length - 1) {
      const n = i - start + 1;
      write(n === 1 ? (out[start] as Frame) : sharedFrames.batch(codec, out, start, i + 1));
      start = i + 1;
      bytes = 0;
    }
  }
}
