import { describe, expect, it } from 'vitest';
import type { ChannelAnomalyKind, ChannelCheckResult } from './channel-anomalies.js';
import { CHANNEL_ANOMALY_KINDS } from './channel-anomalies.js';
import { checkChannelHistory } from './channel-checker.js';
import type { FinalChannelHistory, PublishAttempt, RecordedHistory, SubscriberEvent } from './channel-history.js';
import { HistoryRecorder } from './history-recorder.js';

const CH = 'chat:room';
const OTHER = 'chat:other';

/** The payload of the n-th publication of an epoch in the clean history. */
const msg = (epoch: string, n: number): { text: string } => ({ text: `${epoch}-${n}` });

/**
 * A clean history full of legitimate situations the checker must not flag:
 * a gap covered by recovered:false, an epoch change losing an acked
 * publication, a recovered:true resubscribe (publications delivered before
 * the reply, as the SDK does), a publish with an unknown outcome never
 * applied, one applied despite the timeout, a key retried and deduplicated,
 * a failed publish retried and acked, a late fresh subscriber that leaves, and
 * a subscriber starting from a kept position.
 */
function cleanHistory(): RecordedHistory {
  const rec = new HistoryRecorder();
  const publish = (epoch: string, n: number, to: readonly string[], key = `k-${epoch}-${n}`): void => {
    rec.publishInvoked({ publisher: 'pub', channel: CH, key, payload: msg(epoch, n) }).acked({ epoch, offset: n });
    for (const s of to) rec.delivered({ subscriber: s, channel: CH, epoch, offset: n, payload: msg(epoch, n) });
  };
  rec.subscribed({ subscriber: 's1', channel: CH, epoch: 'e1', offset: 0 });
  rec.subscribed({ subscriber: 's2', channel: CH, epoch: 'e1', offset: 0 });
  for (let n = 1; n <= 5; n++) publish('e1', n, ['s1', 's2']);
  // Key k-e1-3 retried after a lost reply: deduplicated.
  rec.publishInvoked({ publisher: 'pub', channel: CH, key: 'k-e1-3', payload: msg('e1', 3) }).acked({
    epoch: 'e1',
    offset: 3,
    duplicate: true,
  });
  // s2 is cut off; 6 and 7 expire before it comes back: recovered:false covers them.
  publish('e1', 6, ['s1']);
  rec.subscribed({ subscriber: 's3', channel: CH, epoch: 'e1', offset: 6 });
  publish('e1', 7, ['s1', 's3']);
  rec.subscribed({
    subscriber: 's2',
    channel: CH,
    since: { epoch: 'e1', offset: 5 },
    epoch: 'e1',
    offset: 7,
    recovered: false,
  });
  // Unknown outcome, never applied.
  rec
    .publishInvoked({ publisher: 'pub', channel: CH, key: 'k-lost-in-flight', payload: { text: 'maybe' } })
    .unknown('request_timeout');
  // Unknown outcome, applied anyway (8), then the same key retried and deduplicated.
  rec
    .publishInvoked({ publisher: 'pub', channel: CH, key: 'k-e1-8', payload: msg('e1', 8) })
    .unknown('connection_lost');
  for (const s of ['s1', 's2', 's3'])
    rec.delivered({ subscriber: s, channel: CH, epoch: 'e1', offset: 8, payload: msg('e1', 8) });
  rec.publishInvoked({ publisher: 'pub', channel: CH, key: 'k-e1-8', payload: msg('e1', 8) }).acked({
    epoch: 'e1',
    offset: 8,
    duplicate: true,
  });
  rec.unsubscribed('s3', CH);
  // Failed with a retryable error, retried with the same key, acked.
  rec.publishInvoked({ publisher: 'pub', channel: CH, key: 'k-e1-9', payload: msg('e1', 9) }).failed('unavailable');
  publish('e1', 9, ['s1', 's2']);
  // Redis restarts and loses the channel: 10 was acked but reached no one; new epoch e2.
  rec
    .publishInvoked({ publisher: 'pub', channel: CH, key: 'k-e1-10', payload: msg('e1', 10) })
    .acked({ epoch: 'e1', offset: 10 });
  rec.subscribed({
    subscriber: 's1',
    channel: CH,
    since: { epoch: 'e1', offset: 9 },
    epoch: 'e2',
    offset: 0,
    recovered: false,
  });
  rec.subscribed({
    subscriber: 's2',
    channel: CH,
    since: { epoch: 'e1', offset: 9 },
    epoch: 'e2',
    offset: 0,
    recovered: false,
  });
  publish('e2', 1, ['s1', 's2']);
  publish('e2', 2, ['s1', 's2']);
  // s1 is cut off; 3 and 4 are recovered (delivered before the reply, as the SDK does).
  publish('e2', 3, ['s2']);
  publish('e2', 4, ['s2']);
  rec.delivered({ subscriber: 's1', channel: CH, epoch: 'e2', offset: 3, payload: msg('e2', 3) });
  rec.delivered({ subscriber: 's1', channel: CH, epoch: 'e2', offset: 4, payload: msg('e2', 4) });
  rec.subscribed({
    subscriber: 's1',
    channel: CH,
    since: { epoch: 'e2', offset: 2 },
    epoch: 'e2',
    offset: 4,
    recovered: true,
  });
  publish('e2', 5, ['s1', 's2']);
  rec.finalHistory({
    channel: CH,
    epoch: 'e2',
    offset: 5,
    publications: [3, 4, 5].map((n) => ({ offset: n, payload: msg('e2', n) })),
  });

  // Another channel: s4 starts from a kept position (recovered publications first), server-side publishes.
  for (let n = 1; n <= 3; n++) {
    rec
      .publishInvoked({ publisher: 'server', channel: OTHER, key: `o-${n}`, payload: { n } })
      .acked({ epoch: 'x', offset: n });
  }
  rec.delivered({ subscriber: 's4', channel: OTHER, epoch: 'x', offset: 2, payload: { n: 2 } });
  rec.delivered({ subscriber: 's4', channel: OTHER, epoch: 'x', offset: 3, payload: { n: 3 } });
  rec.subscribed({
    subscriber: 's4',
    channel: OTHER,
    since: { epoch: 'x', offset: 1 },
    epoch: 'x',
    offset: 3,
    recovered: true,
  });
  return rec.history();
}

interface MutableHistory {
  publishes: PublishAttempt[];
  events: SubscriberEvent[];
  finals: FinalChannelHistory[];
}

/** A deep, editable copy (also proves the history survives JSON). */
function edit(h: RecordedHistory): MutableHistory {
  return JSON.parse(JSON.stringify(h)) as MutableHistory;
}

function deliveryIndex(h: MutableHistory, subscriber: string, epoch: string, offset: number): number {
  const i = h.events.findIndex(
    (e) => e.type === 'delivery' && e.subscriber === subscriber && e.epoch === epoch && e.offset === offset,
  );
  if (i < 0) throw new Error(`no delivery ${subscriber} ${epoch}:${offset}`);
  return i;
}

function publishOf(h: MutableHistory, epoch: string, offset: number): PublishAttempt {
  const p = h.publishes.find(
    (x) =>
      x.outcome.kind === 'acked' && x.outcome.epoch === epoch && x.outcome.offset === offset && !x.outcome.duplicate,
  );
  if (!p) throw new Error(`no ack ${epoch}:${offset}`);
  return p;
}

/** Expects exactly `count` anomalies, all of `kind`, and returns its first example. */
function expectOnly<K extends ChannelAnomalyKind>(r: ChannelCheckResult, kind: K, count = 1) {
  const others = CHANNEL_ANOMALY_KINDS.filter((k) => k !== kind && r.counts[k] > 0);
  expect(others, r.summary).toEqual([]);
  expect(r.counts[kind], r.summary).toBe(count);
  expect(r.ok).toBe(false);
  expect(r.summary).toContain(`First ${kind}:`);
  const first = r.examples[kind][0];
  if (!first) throw new Error(`no example of ${kind}`);
  return first;
}

describe('checkChannelHistory', () => {
  it('passes a clean history full of legitimate recoveries, retries and epoch changes', () => {
    const r = checkChannelHistory(cleanHistory());
    expect(r.summary).toMatch(/No anomaly\.$/);
    expect(r.ok).toBe(true);
    expect(Object.values(r.counts).every((c) => c === 0)).toBe(true);
    expect(r.stats).toMatchObject({ channels: 2, subscribers: 4, failed: 1, unknown: 2, notRecovered: 3 });
  });

  it('reports a gap', () => {
    const h = edit(cleanHistory());
    h.events.splice(deliveryIndex(h, 's1', 'e1', 4), 1);
    const a = expectOnly(checkChannelHistory(h), 'gap');
    expect(a).toMatchObject({
      subscriber: 's1',
      channel: CH,
      epoch: 'e1',
      after: 3,
      next: 5,
      missing: [4],
      missingCount: 1,
    });
  });

  it('reports a gap that a recovered:false reply does not cover', () => {
    const h = edit(cleanHistory());
    const i = h.events.findIndex((e) => e.type === 'subscribed' && e.subscriber === 's2' && e.recovered === false);
    h.events[i] = { ...(h.events[i] as SubscriberEvent & { type: 'subscribed' }), offset: 6 };
    expect(expectOnly(checkChannelHistory(h), 'gap')).toMatchObject({
      subscriber: 's2',
      after: 6,
      next: 8,
      missing: [7],
    });
  });

  it('reports a gap when a recovered:true reply did not deliver what was missed', () => {
    const h = edit(cleanHistory());
    h.events.splice(deliveryIndex(h, 's1', 'e2', 3), 1);
    expect(expectOnly(checkChannelHistory(h), 'gap')).toMatchObject({ subscriber: 's1', epoch: 'e2', missing: [3] });
  });

  it('reports a duplicate delivery', () => {
    const h = edit(cleanHistory());
    const i = deliveryIndex(h, 's2', 'e2', 2);
    h.events.splice(i + 1, 0, h.events[i] as SubscriberEvent);
    const a = expectOnly(checkChannelHistory(h), 'duplicate-delivery');
    expect(a).toMatchObject({
      subscriber: 's2',
      epoch: 'e2',
      offset: 2,
      payload: msg('e2', 2),
      firstEvent: i,
      event: i + 1,
    });
  });

  it('reports a publication stored twice under different offsets', () => {
    const h = edit(cleanHistory());
    // The server applied e2-5 a second time at offset 6.
    const at = deliveryIndex(h, 's2', 'e2', 5) + 1;
    for (const s of ['s2', 's1']) {
      h.events.splice(at, 0, {
        type: 'delivery',
        subscriber: s,
        channel: CH,
        epoch: 'e2',
        offset: 6,
        payload: msg('e2', 5),
        at: 0,
      });
    }
    const a = expectOnly(checkChannelHistory(h), 'duplicate-publication');
    expect(a).toMatchObject({ channel: CH, epoch: 'e2', key: 'k-e2-5', firstOffset: 5, offset: 6 });
  });

  it('reports a reordering (and no gap, since the missing offset arrives)', () => {
    const h = edit(cleanHistory());
    const i = deliveryIndex(h, 's1', 'e1', 3);
    const j = deliveryIndex(h, 's1', 'e1', 4);
    const [a3, a4] = [h.events[i] as SubscriberEvent, h.events[j] as SubscriberEvent];
    h.events[i] = a4;
    h.events[j] = a3;
    const a = expectOnly(checkChannelHistory(h), 'reordering');
    expect(a).toMatchObject({ subscriber: 's1', epoch: 'e1', offset: 3, after: 4 });
  });

  it('reports a position holding two payloads', () => {
    const h = edit(cleanHistory());
    const i = deliveryIndex(h, 's2', 'e1', 4);
    h.events[i] = { ...(h.events[i] as SubscriberEvent & { type: 'delivery' }), payload: { text: 'bogus' } };
    const a = expectOnly(checkChannelHistory(h), 'divergent-position');
    expect(a).toMatchObject({ channel: CH, epoch: 'e1', offset: 4 });
    expect(a.payloads.map((p) => p.payload)).toEqual([msg('e1', 4), { text: 'bogus' }]);
    expect(a.payloads[1]?.source).toMatchObject({ from: 'delivery', subscriber: 's2', event: i });
  });

  it('reports a position the final history holds with another payload', () => {
    const h = edit(cleanHistory());
    const f = h.finals[0] as FinalChannelHistory;
    h.finals[0] = { ...f, publications: f.publications.map((p) => (p.offset === 4 ? { offset: 4, payload: 'x' } : p)) };
    const a = expectOnly(checkChannelHistory(h), 'divergent-position');
    expect(a.payloads.map((p) => p.source.from)).toEqual(['delivery', 'final-history']);
  });

  it('reports an acknowledged publication that was lost while the epoch stayed', () => {
    const h = edit(cleanHistory());
    h.publishes.push({
      id: h.publishes.length,
      publisher: 'pub',
      channel: CH,
      key: 'k-gone',
      payload: { text: 'gone' },
      outcome: { kind: 'acked', epoch: 'e2', offset: 6 },
      invokedAt: 0,
    });
    const a = expectOnly(checkChannelHistory(h), 'lost-ack');
    expect(a).toMatchObject({
      channel: CH,
      epoch: 'e2',
      offset: 6,
      key: 'k-gone',
      subscribers: ['s1', 's2'],
      finalOffset: 5,
    });
  });

  it('reports an acknowledged publication the final history should hold, with no subscriber', () => {
    const rec = new HistoryRecorder();
    for (let n = 1; n <= 3; n++) {
      rec
        .publishInvoked({ publisher: 'p', channel: 'quiet', key: `q${n}`, payload: n })
        .acked({ epoch: 'e', offset: n });
    }
    rec.finalHistory({
      channel: 'quiet',
      epoch: 'e',
      offset: 2,
      publications: [1, 2].map((n) => ({ offset: n, payload: n })),
    });
    const a = expectOnly(checkChannelHistory(rec.history()), 'lost-ack');
    expect(a).toMatchObject({ offset: 3, key: 'q3', subscribers: [], finalOffset: 2 });
  });

  it('accepts a recovered:true reply recorded before the publications it recovers', () => {
    const h = edit(cleanHistory());
    const reply = h.events.findIndex((e) => e.type === 'subscribed' && e.subscriber === 's4');
    const [event] = h.events.splice(reply, 1);
    h.events.splice(deliveryIndex(h, 's4', 'x', 2), 0, event as SubscriberEvent);
    expect(checkChannelHistory(h).summary).toMatch(/No anomaly\.$/);
  });

  it('reports a publication a subscriber never got with no recovered:false covering it', () => {
    const h = edit(cleanHistory());
    h.events.splice(deliveryIndex(h, 's2', 'e2', 5), 1);
    const a = expectOnly(checkChannelHistory(h), 'uncovered-miss');
    expect(a).toMatchObject({ subscriber: 's2', epoch: 'e2', offset: 5, payload: msg('e2', 5), lastDelivered: 4 });
  });

  it('does not hold a subscriber to the tail when the run is not quiescent', () => {
    const h = edit(cleanHistory());
    h.events.splice(deliveryIndex(h, 's2', 'e2', 5), 1);
    expect(checkChannelHistory(h, { quiescent: false }).ok).toBe(true);
  });

  it('reports a publish acknowledged at a position holding another payload', () => {
    const h = edit(cleanHistory());
    const p = publishOf(h, 'e1', 6);
    h.publishes[p.id] = { ...p, outcome: { kind: 'acked', epoch: 'e1', offset: 7 } };
    const a = expectOnly(checkChannelHistory(h), 'ack-payload-mismatch');
    expect(a).toMatchObject({ offset: 7, key: 'k-e1-6', sent: msg('e1', 6), held: msg('e1', 7) });
  });

  it('reports a failed publish that was applied', () => {
    const h = edit(cleanHistory());
    const p = publishOf(h, 'e2', 2);
    h.publishes[p.id] = { ...p, outcome: { kind: 'failed', code: 'unavailable' } };
    const a = expectOnly(checkChannelHistory(h), 'failed-but-applied');
    expect(a).toMatchObject({ key: 'k-e2-2', code: 'unavailable', epoch: 'e2', offset: 2 });
  });

  it('caps examples but counts everything', () => {
    const h = edit(cleanHistory());
    for (let n = 0; n < 25; n++) {
      h.events.push({
        type: 'delivery',
        subscriber: 's1',
        channel: CH,
        epoch: 'e2',
        offset: 5,
        payload: msg('e2', 5),
        at: 0,
      });
    }
    const r = checkChannelHistory(h, { maxExamples: 3 });
    expect(r.counts['duplicate-delivery']).toBe(25);
    expect(r.examples['duplicate-delivery']).toHaveLength(3);
  });

  it('checks a history of 100k deliveries', () => {
    const rec = new HistoryRecorder();
    const subscribers = Array.from({ length: 10 }, (_, i) => `s${i}`);
    const channels = Array.from({ length: 5 }, (_, i) => `load:${i}`);
    for (const c of channels)
      for (const s of subscribers) rec.subscribed({ subscriber: s, channel: c, epoch: 'e', offset: 0 });
    for (let n = 1; n <= 2_000; n++) {
      for (const c of channels) {
        const payload = { c, n, body: 'x'.repeat(20) };
        rec.publishInvoked({ publisher: 'p', channel: c, key: `${c}-${n}`, payload }).acked({ epoch: 'e', offset: n });
        for (const s of subscribers) rec.delivered({ subscriber: s, channel: c, epoch: 'e', offset: n, payload });
      }
    }
    const h = rec.history();
    expect(h.events.filter((e) => e.type === 'delivery')).toHaveLength(100_000);
    const r = checkChannelHistory(h);
    expect(r.summary).toMatch(/No anomaly\.$/);
    expect(r.stats.positions).toBe(10_000);
  });
});
