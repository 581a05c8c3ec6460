import { sharedFrames } from './shared-frames.js';

/** Largest run of queued frames written as one batch, characters. */
export const MAX_FRAME_CHUNK_BYTES = 64 * 1024;

/**
 * The frames a session has queued this tick: one alone as is (the common case
 * of a fan-out, no array allocated), more in an array. `undefined` is empty.
 */
export type Outbox = string | string[] | undefined;

/** Adds a frame to an outbox and returns the outbox to keep (the array is grown in place). */
export function appendFrame(out: Outbox, frame: string): string | string[] {
  if (out === undefined) return frame;
  if (typeof out === 'string') return [out, frame];
  out.push(frame);
  return out;
}

/**
 * Writes a taken outbox in order: a frame alone as is, runs of frames as JSON
 * arrays of at most about `MAX_FRAME_CHUNK_BYTES` characters each.
 */
export function writeBatched(out: string | string[], write: (text: string) => void): void {
  if (typeof out === 'string') {
    write(out);
    return;
  }
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < out.length; i++) {
    bytes += (out[i] as string).length + 1;
    if (bytes >= MAX_FRAME_CHUNK_BYTES || i === out.length - 1) {
      const n = i - start + 1;
      write(n === 1 ? (out[start] as string) : sharedFrames.batch(out, start, i + 1));
      start = i + 1;
      bytes = 0;
    }
  }
}
