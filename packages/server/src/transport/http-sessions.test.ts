import { encodeBase64, jsonCodec, msgpackCodec } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { newHttpSessionId, ownerOfHttpSession, splitFrames } from './http-sessions.js';

describe('HTTP session ids', () => {
  it('name their owner node and are unguessable', () => {
    for (const node of ['a', 'node-1', 'x.y:z/ü']) {
      const id = newHttpSessionId(node);
      expect(ownerOfHttpSession(id)).toBe(node);
      expect(id).not.toBe(newHttpSessionId(node));
      expect(encodeURIComponent(id)).toBe(id);
    }
    for (const bad of ['', 'abc', 'a.b', 'a.AAAAAAAAAAAAAAAAAAAAAAA!', '.AAAAAAAAAAAAAAAAAAAAAAAA']) {
      expect(ownerOfHttpSession(bad)).toBeUndefined();
    }
  });
});

describe('splitFrames', () => {
  const limits = { maxFrameBytes: 20, maxBodyBytes: 1000 };
  it('splits lines, skips blank ones and tolerates CRLF', () => {
    expect(splitFrames('{"a":1}\r\n\n[1,2]\n', limits, jsonCodec)).toEqual(['{"a":1}', '[1,2]']);
  });
  it('refuses a body with a line that is not JSON', () => {
    const r = splitFrames('{"a":1}\n{oops', limits, jsonCodec);
    expect(r).toBeInstanceOf(Error);
    expect((r as { code: string }).code).toBe('bad_frame');
  });
  it('passes oversize frames through unparsed for the core to answer', () => {
    const big = `{"x":"${'y'.repeat(40)}"`;
    expect(splitFrames(big, limits, jsonCodec)).toEqual([big]);
  });
  it('reads the frames of a binary codec as base64 lines and refuses other text', () => {
    const a = msgpackCodec.encode({ a: 1 }) as Uint8Array;
    const b = msgpackCodec.encode([1, 2]) as Uint8Array;
    const body = `${encodeBase64(a)}\r\n\n${encodeBase64(b)}\n`;
    const frames = splitFrames(body, limits, msgpackCodec) as Uint8Array[];
    expect(frames.map((f) => Buffer.from(f).toString('hex'))).toEqual(
      [a, b].map((f) => Buffer.from(f).toString('hex')),
    );
    for (const bad of ['{"a":1}', encodeBase64(Uint8Array.of(0xc1)), `${encodeBase64(a)}!`]) {
      expect((splitFrames(bad, limits, msgpackCodec) as { code?: string }).code, bad).toBe('bad_frame');
    }
  });
});
