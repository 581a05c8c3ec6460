import { describe, expect, it } from 'vitest';
import { canonicalJson, firstDifference } from './canonical-json.js';
import { HistoryRecorder } from './history-recorder.js';

describe('HistoryRecorder', () => {
  it('records publishes with their outcomes, subscriber events in order, and final histories', () => {
    let now = 1_000;
    const rec = new HistoryRecorder({ now: () => now });
    const a = rec.publishInvoked({ publisher: 'c1', channel: 'ch', key: 'k1', payload: { n: 1 } });
    const b = rec.publishInvoked({ publisher: 'c1', channel: 'ch', key: 'k2', payload: { n: 2 } });
    rec.publishInvoked({ publisher: 'c1', channel: 'ch', key: 'k3', payload: { n: 3 } });
    now += 5;
    a.acked({ epoch: 'e', offset: 1 });
    b.unknown('request_timeout');
    rec.subscribed({ subscriber: 's', channel: 'ch', epoch: 'e', offset: 0, since: undefined, recovered: undefined });
    rec.delivered({ subscriber: 's', channel: 'ch', epoch: 'e', offset: 1, payload: { n: 1 } });
    rec.subscribed({
      subscriber: 's',
      channel: 'ch',
      since: { epoch: 'e', offset: 1 },
      epoch: 'e',
      offset: 1,
      recovered: true,
    });
    rec.unsubscribed('s', 'ch');
    rec.finalHistory({ channel: 'ch', epoch: 'e', offset: 0, publications: [] });
    rec.finalHistory({ channel: 'ch', epoch: 'e', offset: 1, publications: [{ offset: 1, payload: { n: 1 } }] });

    const h = rec.history();
    expect(JSON.parse(JSON.stringify(h))).toEqual(h);
    expect(h.publishes.map((p) => [p.id, p.outcome])).toEqual([
      [0, { kind: 'acked', epoch: 'e', offset: 1 }],
      [1, { kind: 'unknown', reason: 'request_timeout' }],
      [2, { kind: 'pending' }],
    ]);
    expect(h.publishes[0]).toMatchObject({ invokedAt: 0, completedAt: 5 });
    expect(h.publishes[2]).not.toHaveProperty('completedAt');
    expect(h.events.map((e) => e.type)).toEqual(['subscribed', 'delivery', 'subscribed', 'unsubscribed']);
    expect(h.events[0]).not.toHaveProperty('since');
    expect(h.events[0]).not.toHaveProperty('recovered');
    expect(h.events[2]).toMatchObject({ since: { epoch: 'e', offset: 1 }, recovered: true });
    expect(h.finals).toEqual([
      { channel: 'ch', epoch: 'e', offset: 1, publications: [{ offset: 1, payload: { n: 1 } }] },
    ]);
    expect(rec.eventCount).toBe(4);
  });

  it('refuses to settle an attempt twice', () => {
    const rec = new HistoryRecorder();
    const p = rec.publishInvoked({ publisher: 'c', channel: 'ch', key: 'k', payload: 1 });
    p.failed('unavailable');
    expect(() => p.acked({ epoch: 'e', offset: 1 })).toThrow(/already settled as failed/);
  });

  it('takes snapshots: later events do not change an earlier history', () => {
    const rec = new HistoryRecorder();
    const first = rec.history();
    rec.delivered({ subscriber: 's', channel: 'ch', epoch: 'e', offset: 1, payload: 1 });
    expect(first.events).toHaveLength(0);
    expect(rec.history().events).toHaveLength(1);
  });
});

describe('canonicalJson', () => {
  it('gives equal text for deep-equal values whatever their key order', () => {
    expect(canonicalJson({ b: [1, { y: 2, x: 'a' }], a: null })).toBe(
      canonicalJson({ a: null, b: [1, { x: 'a', y: 2 }] }),
    );
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(canonicalJson([undefined, Number.NaN, 'q"'])).toBe('[null,null,"q\\""]');
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
  });

  it('names the first differing path', () => {
    expect(firstDifference({ a: [1, 2] }, { a: [1, 2] })).toBeUndefined();
    expect(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] })).toEqual({
      path: '$.a[1].b',
      left: 2,
      right: 3,
    });
    expect(firstDifference({ a: 1 }, { a: 1, c: 2 })).toEqual({ path: '$.c', left: undefined, right: 2 });
    expect(firstDifference([1], { 0: 1 })).toEqual({ path: '$', left: [1], right: { 0: 1 } });
  });
});
