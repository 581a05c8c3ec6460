import { Packr } from 'msgpackr';
import type { Codec } from './codec.js';

/**
 * Plain standard MessagePack: objects as maps with string keys (no record
 * extension), `undefined` as nil, integers up to 2^53 as numbers. Any
 * ordinary MessagePack library in any language reads and writes it.
 */
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
  int64AsType: 'number',
  moreTypes: false,
});

/**
 * True when `value` is made only of what JSON carries: plain objects, arrays,
 * strings, finite numbers, booleans and null. Iterative (hostile nesting
 * cannot overflow the stack here).
 */
function jsonCompatible(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false;
      continue;
    }
    if (typeof v !== 'object') return false;
    if (Array.isArray(v)) {
      for (const c of v) stack.push(c);
      continue;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    for (const k in v) stack.push((v as Record<string, unknown>)[k]);
  }
  return true;
}

/** Length of the array header of a MessagePack array of `n` elements. */
function arrayHeaderLength(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}

/** Writes the array header of a MessagePack array of `n` elements at the start of `out`. */
function writeArrayHeader(out: Uint8Array, n: number): void {
  if (n < 16) out[0] = 0x90 | n;
  else if (n < 0x10000) {
    out[0] = 0xdc;
    out[1] = n >> 8;
    out[2] = n & 0xff;
  } else {
    out[0] = 0xdd;
    out[1] = (n >>> 24) & 0xff;
    out[2] = (n >>> 16) & 0xff;
    out[3] = (n >>> 8) & 0xff;
    out[4] = n & 0xff;
  }
}

/**
 * Bytes for a new frame, not zeroed: from Node's buffer pool where there is
 * one (a small frame then costs no memory allocation of its own), else a
 * new array.
 */
const allocFrame: (n: number) => Uint8Array = (() => {
  const B = (globalThis as { Buffer?: { allocUnsafe(n: number): Uint8Array } }).Buffer;
  return B === undefined ? (n: number) => new Uint8Array(n) : (n: number) => B.allocUnsafe(n);
})();

/** Frames up to this size are decoded from a copy in `readArea` (see `readable`). */
const READ_AREA_BYTES = 1024;
const readArea = new ArrayBuffer(READ_AREA_BYTES);
/** One view of `readArea` per frame length, each with the `DataView` msgpackr looks for on its source. */
const readViews: (Uint8Array & { dataView?: DataView })[] = [];

/**
 * `frame` as msgpackr reads it fastest. msgpackr makes a `DataView` of each
 * source and stores it on it, which costs more than the decoding of a small
 * command when every frame is a new buffer: a small frame is copied into a
 * view of exactly its length over a buffer kept for this, whose `DataView`
 * is made once. Decoding reads nothing past the view (as from the frame
 * itself), and nothing of it is kept (strings are copied out; binary values
 * are refused).
 */
function readable(frame: Uint8Array): Uint8Array {
  const n = frame.byteLength;
  // (Anything else msgpackr reads, such as an ArrayBuffer from untyped code, is handed over as is.)
  if (n > READ_AREA_BYTES || !(frame instanceof Uint8Array)) return frame;
  let view = readViews[n];
  if (view === undefined) {
    view = new Uint8Array(readArea, 0, n);
    view.dataView = new DataView(readArea, 0, n);
    readViews[n] = view;
  }
  view.set(frame);
  return view;
}

/**
 * MessagePack codec (`syncline.msgpack`): binary frames. A batch is a
 * MessagePack array, so joining encoded messages is an array header and
 * their bytes. Decoding refuses what JSON could not carry (binary, extension
 * types such as timestamps, NaN and infinities): the protocol's values are
 * JSON values whatever the codec, so what one client sends reads the same
 * for every other.
 */
export const msgpackCodec: Codec = {
  name: 'msgpack',
  label: 'MessagePack',
  binary: true,
  encode(message) {
    return packr.pack(message);
  },
  decode(frame) {
    if (typeof frame === 'string') throw new Error('A MessagePack frame must be binary.');
    const value: unknown = packr.unpack(readable(frame));
    if (!jsonCompatible(value)) throw new Error('The frame holds a value JSON cannot carry.');
    return value;
  },
  join(frames) {
    let length = 0;
    // (`length`, a Uint8Array's byte count, is cheaper to read than `byteLength`.)
    for (const f of frames) length += (f as Uint8Array).length;
    let at = arrayHeaderLength(frames.length);
    const out = allocFrame(at + length);
    writeArrayHeader(out, frames.length);
    for (const f of frames) {
      out.set(f as Uint8Array, at);
      at += (f as Uint8Array).length;
    }
    return out;
  },
};
