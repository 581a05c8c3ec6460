import { jsonCodec, msgpackCodec } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../transport/transport.js';
import { appendFrame, type Frame, MAX_FRAME_CHUNK_BYTES, type Outbox, writeBatched } from './outbox.js';
import { Session, type SessionHost } from './session.js';
import { defineSlot } from './session-slot.js';

function session(): Session {
  const conn: Connection = {
    transport: 'test',
    remoteAddress: '127.0.0.1',
    codec: jsonCodec,
    send: () => undefined,
    bufferedAmount: 0,
    close: () => undefined,
    receiver: undefined,
  };
  const host: SessionHost = {
    maxFrameBytes: 65_536,
    maxQueueBytes: 1_048_576,
    maxCommandsPerFrame: 100,
    dispatch: () => null,
    scheduleFlush: () => undefined,
    sessionClosed: () => undefined,
    logError: () => undefined,
  };
  return new Session(conn, host);
}

describe('session slots', () => {
  it('creates a value on first use, once per session, and never for peek', () => {
    let made = 0;
    const COUNTER = defineSlot('counter', () => {
      made++;
      return { n: 0 };
    });
    const a = session();
    const b = session();
    expect(a.peek(COUNTER)).toBeUndefined();
    expect(made).toBe(0);
    a.slot(COUNTER).n += 2;
    a.slot(COUNTER).n += 1;
    expect(a.peek(COUNTER)).toEqual({ n: 3 });
    expect(b.peek(COUNTER)).toBeUndefined();
    expect(made).toBe(1);
  });

  it('keeps slots of the same name apart; set and clear', () => {
    const first = defineSlot('same', () => new Set<string>());
    const second = defineSlot('same', () => new Map<string, number>());
    const s = session();
    s.slot(first).add('x');
    s.slot(second).set('y', 1);
    expect([...s.slot(first)]).toEqual(['x']);
    expect([...s.slot(second)]).toEqual([['y', 1]]);
    s.setSlot(first, new Set(['z']));
    expect([...s.slot(first)]).toEqual(['z']);
    s.clearSlot(first);
    expect(s.peek(first)).toBeUndefined();
    expect(s.peek(second)?.get('y')).toBe(1);
    s.clearSlot(second);
    s.clearSlot(second);
    expect(s.peek(second)).toBeUndefined();
  });
});

describe.each([jsonCodec, msgpackCodec])('outbox ($name)', (codec) => {
  it('keeps one frame as is and batches runs into arrays of bounded size', () => {
    const one = codec.encode({ a: 1 });
    const out = appendFrame(undefined, one);
    expect(out).toBe(one);
    const written: Frame[] = [];
    writeBatched(codec, out, (t) => written.push(t));
    expect(written).toEqual([one]);

    const big = 'x'.repeat(MAX_FRAME_CHUNK_BYTES / 2);
    const values = [1, 2, big, big, 3];
    let many: Outbox;
    for (const v of values) many = appendFrame(many, codec.encode(v));
    const batches: Frame[] = [];
    if (many !== undefined) writeBatched(codec, many, (t) => batches.push(t));
    expect(batches.flatMap((t) => [codec.decode(t)].flat())).toEqual(values);
    expect(batches.length).toBeGreaterThan(1);
  });
});
