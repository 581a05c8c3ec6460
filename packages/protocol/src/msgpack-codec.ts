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

/** Bytes of the array header of a MessagePack array of `n` elements. */
function arrayHeader(n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(0x90 | n);
  if (n < 0x10000) return Uint8Array.of(0xdc, n >> 8, n & 0xff);
  return Uint8Array.of(0xdd, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
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
    const value: unknown = packr.unpack(frame);
    if (!jsonCompatible(value)) throw new Error('The frame holds a value JSON cannot carry.');
    return value;
  },
  join(frames) {
    let length = 0;
    for (const f of frames) length += (f as Uint8Array).byteLength;
    const head = arrayHeader(frames.length);
    const out = new Uint8Array(head.byteLength + length);
    out.set(head, 0);
    let at = head.byteLength;
    for (const f of frames) {
      out.set(f as Uint8Array, at);
      at += (f as Uint8Array).byteLength;
    }
    return out;
  },
};
