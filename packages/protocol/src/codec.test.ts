import * as msgpackr from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from './base64.js';
import { jsonCodec } from './codec.js';
import { CODECS, codecOfSubprotocol } from './codecs.js';
import { msgpackCodec } from './msgpack-codec.js';

const hex = (b: string | Uint8Array): string => Buffer.from(b as Uint8Array).toString('hex');

const messages = [
  { type: 'pub', channel: 'chat:a', offset: 7, ts: 1_796_367_142_125, user: 'alice', data: { text: 'héllo 👋' } },
  { type: 'reply', id: 1, result: null },
  { type: 'presence.state', channel: 'c', seq: 2, entries: [{ user: 'u', clientId: 'x', state: [1, -2.5, true] }] },
  { type: 'error', code: 'bad_frame', message: 'm', details: { limit: 2 ** 53 - 1 } },
];

describe.each(Object.values(CODECS))('codec $name', (codec) => {
  it('round-trips every kind of message and batch', () => {
    for (const m of messages) expect(codec.decode(codec.encode(m))).toEqual(m);
    expect(codec.decode(codec.encode(messages))).toEqual(messages);
  });

  it('joins encoded messages into the frame of their array', () => {
    for (const n of [1, 2, 15, 16, 17, 70_000]) {
      const batch = Array.from({ length: n }, (_, i) => messages[i % messages.length]);
      const joined = codec.join(batch.map((m) => codec.encode(m)));
      expect(hex(joined)).toBe(hex(codec.encode(batch)));
    }
  });

  it('is found by its subprotocol', () => {
    expect(codecOfSubprotocol(`syncline.${codec.name}`)).toBe(codec);
  });
});

describe('MessagePack codec', () => {
  it('writes plain standard MessagePack (maps with string keys, no records)', () => {
    expect(hex(msgpackCodec.encode({ a: 1 }))).toBe('81a16101');
    expect(hex(msgpackCodec.encode([1, 'x', null]))).toBe('9301a178c0');
    expect(hex(msgpackCodec.encode({ u: undefined }))).toBe('81a175c0');
  });

  it('reads 64-bit integers as numbers', () => {
    expect(msgpackCodec.decode(Buffer.from('cf0000018d00000000', 'hex'))).toBe(1_705_102_016_512);
  });

  it('refuses values JSON cannot carry, text frames and malformed bytes', () => {
    const bad = ['c403010203', 'd6ff00000001', 'cb7ff8000000000000', 'c1', '9201', '0102', 'd40500'];
    for (const b of bad) expect(() => msgpackCodec.decode(Buffer.from(b, 'hex')), b).toThrow();
    expect(() => msgpackCodec.decode('{}')).toThrow();
  });

  it('fails cleanly on hostile nesting and keeps working afterwards', () => {
    expect(() => msgpackCodec.decode(new Uint8Array(200_000).fill(0x91))).toThrow();
    expect(msgpackCodec.decode(msgpackCodec.encode({ ok: true }))).toEqual({ ok: true });
  });

  it('decodes each frame on its own, whatever came before it (small frames are read from a copy)', () => {
    const long = msgpackCodec.encode({ type: 'publish', id: 1, channel: 'chat:a', data: { x: 'y'.repeat(60) } });
    const large = msgpackCodec.encode({ data: 'z'.repeat(3000) });
    const frames = [long, large, long, msgpackCodec.encode({ ok: 1 })] as Uint8Array[];
    for (const f of frames) expect(msgpackCodec.decode(f)).toEqual(msgpackr.unpack(f));
    // A frame cut short after a longer one of the same start: its end is not read from the earlier frame.
    const cut = (long as Uint8Array).subarray(0, (long as Uint8Array).byteLength - 10);
    expect(() => msgpackCodec.decode(cut)).toThrow();
    expect(() => msgpackCodec.decode(cut.slice())).toThrow();
    // An ArrayBuffer (untyped callers) is still read.
    const bytes = Uint8Array.from(long as Uint8Array);
    expect(msgpackCodec.decode(bytes.buffer as unknown as Uint8Array)).toEqual(msgpackr.unpack(long as Uint8Array));
    // The frame handed in is left as it was.
    const copy = Buffer.from(long as Uint8Array);
    msgpackCodec.decode(long);
    expect(copy.equals(long as Uint8Array)).toBe(true);
  });

  it('never lets a key reach the prototype', () => {
    const frame = Buffer.concat([
      Buffer.from([0x81, 0xa9]),
      Buffer.from('__proto__'),
      Buffer.from([0x81, 0xa1, 0x78, 1]),
    ]);
    const v = msgpackCodec.decode(frame) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('is smaller than JSON for a typical publication', () => {
    const m = messages[0];
    expect((msgpackCodec.encode(m) as Uint8Array).byteLength).toBeLessThan(
      Buffer.byteLength(jsonCodec.encode(m) as string),
    );
  });
});

describe('base64', () => {
  it('round-trips bytes and refuses what is not base64', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);
    expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
    for (const bad of ['a', 'ab!=', '{"type":"x"}', 'YQ']) expect(() => decodeBase64(bad), bad).toThrow();
  });
});
