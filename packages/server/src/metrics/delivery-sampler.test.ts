import { jsonCodec } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { FlushScheduler } from '../session/flush-scheduler.js';
import { Session, type SessionHost } from '../session/session.js';
import { SharedFrame } from '../session/shared-frame.js';
import type { Connection } from '../transport/transport.js';
import { DELIVERY_SAMPLE_INTERVAL_MS, DELIVERY_SAMPLE_SPREAD, DeliverySampler } from './delivery-sampler.js';

/** A session over a connection that records what is written to it, flushed by `flushes`. */
function session(flushes: FlushScheduler): { session: Session; written: (string | Uint8Array)[] } {
  const written: (string | Uint8Array)[] = [];
  const conn: Connection = {
    transport: 'test',
    remoteAddress: '127.0.0.1',
    codec: jsonCodec,
    bufferedAmount: 0,
    receiver: undefined,
    send: (frame) => written.push(frame),
    close: () => undefined,
  };
  const host: SessionHost = {
    maxFrameBytes: 65_536,
    maxQueueBytes: 1 << 20,
    maxCommandsPerFrame: 100,
    dispatch: () => null,
    scheduleFlush: (s) => flushes.schedule(s),
    sessionClosed: () => undefined,
    logError: () => undefined,
  };
  return { session: new Session(conn, host), written };
}

const frameOf = (offset: number) => new SharedFrame({ type: 'pub', channel: 'c', offset, ts: 0, data: null });

describe('delivery sampling', () => {
  it('takes one publication of the next few while armed, stamps its frame only, and arms again after the interval', async () => {
    const sampler = new DeliverySampler();
    const pubs = Array.from({ length: DELIVERY_SAMPLE_SPREAD + 2 }, (_, i) => ({ offset: i + 1 }));
    // The first arrival after start is taken (no spread before the first interval).
    expect(sampler.armed).toBe(true);
    // The interval runs from the taken arrival, so the wait is timed from just before it.
    const takenAt = performance.now();
    sampler.arrived(pubs[0] as object, 123.5);
    expect(sampler.armed).toBe(false);
    const frames = pubs.map((p, i) => {
      const f = frameOf(i + 1);
      sampler.framed(p, f);
      return f;
    });
    expect(frames.map((f) => f.sampledAt)).toEqual([123.5, ...pubs.slice(1).map(() => undefined)]);
    // Framed again (another round): stamped once only.
    const again = frameOf(1);
    sampler.framed(pubs[0] as object, again);
    expect(again.sampledAt).toBeUndefined();

    await expect.poll(() => sampler.armed, { timeout: 1_000, interval: 2 }).toBe(true);
    expect(performance.now() - takenAt).toBeGreaterThanOrEqual(DELIVERY_SAMPLE_INTERVAL_MS - 1);
    // Armed again: one of the next DELIVERY_SAMPLE_SPREAD arrivals is taken.
    let taken = -1;
    for (let i = 0; i < pubs.length && taken < 0; i++) {
      sampler.arrived(pubs[i] as object, 1_000 + i);
      if (!sampler.armed) taken = i;
    }
    expect(taken).toBeGreaterThanOrEqual(0);
    expect(taken).toBeLessThan(DELIVERY_SAMPLE_SPREAD);
    const f = frameOf(taken + 1);
    sampler.framed(pubs[taken] as object, f);
    expect(f.sampledAt).toBe(1_000 + taken);
  });

  it('records one observation per sampled publication per flush slice, from its arrival to the writes, however many sessions wrote it', async () => {
    const seen: number[] = [];
    const flushes = new FlushScheduler((s) => seen.push(s));
    const sessions = Array.from({ length: 50 }, () => session(flushes));
    const arrived = performance.now();
    const sampled = frameOf(1);
    sampled.sampledAt = arrived;
    const plain = frameOf(2);
    const later = frameOf(3);
    later.sampledAt = arrived + 0.5;
    // Most sessions carry the first sampled publication, some a later one, one none at all.
    for (const { session: s } of sessions.slice(0, 40)) s.sendShared(sampled);
    for (const { session: s } of sessions) s.sendShared(plain);
    for (const { session: s } of sessions.slice(40)) s.sendShared(later);
    const idle = session(flushes);
    idle.session.sendShared(plain);
    const before = performance.now();
    await expect.poll(() => sessions.every((s) => s.written.length > 0) && idle.written.length > 0).toBe(true);
    const wall = (performance.now() - arrived) / 1000;
    // One slice (51 small sessions): one observation for each sampled publication.
    expect(seen).toHaveLength(2);
    const [first, second] = seen as [number, number];
    expect(first).toBeGreaterThanOrEqual((before - arrived) / 1000);
    expect(first).toBeLessThanOrEqual(wall);
    expect(second).toBeCloseTo(first - 0.0005, 6);

    // A flush with no sampled frame records nothing.
    for (const { session: s } of sessions) s.sendShared(plain);
    await expect.poll(() => sessions.every((s) => s.written.length === 2)).toBe(true);
    expect(seen).toHaveLength(2);
  });
});
