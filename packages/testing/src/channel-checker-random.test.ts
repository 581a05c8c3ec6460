import { describe, expect, it } from 'vitest';
import type { ChannelCheckResult } from './channel-anomalies.js';
import { checkChannelHistory } from './channel-checker.js';
import type { RecordedHistory } from './channel-history.js';
import { HistoryRecorder } from './history-recorder.js';
import { prng } from './seeded-random.js';

interface Sub {
  readonly name: string;
  connected: boolean;
  epoch: string;
  pos: number;
}

const HISTORY_SIZE = 20;
const CH = 'sim';

/**
 * Simulates a channel that behaves as guaranteed: publishes acked, failed or
 * unknown (applied or not), retries deduplicated, subscribers cut off and
 * resubscribing (recovered while the history still holds what they missed,
 * else recovered:false), and epoch changes that lose the history.
 */
function simulate(seed: number, steps = 600): RecordedHistory {
  const rnd = prng(seed);
  const rec = new HistoryRecorder();
  let epochNo = 1;
  let epoch = 'e1';
  let offset = 0;
  let retained: Array<{ offset: number; payload: unknown }> = [];
  let n = 0;
  const subs: Sub[] = ['a', 'b', 'c', 'd'].map((name) => ({ name, connected: true, epoch, pos: 0 }));
  for (const s of subs) rec.subscribed({ subscriber: s.name, channel: CH, epoch, offset: 0 });
  let lastAck: { key: string; payload: unknown; epoch: string; offset: number } | undefined;

  const resubscribe = (s: Sub): void => {
    const since = { epoch: s.epoch, offset: s.pos };
    const first = retained[0]?.offset ?? offset + 1;
    if (s.epoch === epoch && s.pos >= first - 1) {
      for (const p of retained) {
        if (p.offset > s.pos)
          rec.delivered({ subscriber: s.name, channel: CH, epoch, offset: p.offset, payload: p.payload });
      }
      rec.subscribed({ subscriber: s.name, channel: CH, since, epoch, offset, recovered: true });
    } else {
      rec.subscribed({ subscriber: s.name, channel: CH, since, epoch, offset, recovered: false });
    }
    s.epoch = epoch;
    s.pos = offset;
    s.connected = true;
  };

  for (let step = 0; step < steps; step++) {
    const r = rnd();
    const sub = subs[Math.floor(rnd() * subs.length)] as Sub;
    if (r < 0.6) {
      const key = `k${++n}`;
      const payload = { seed, n };
      const attempt = rec.publishInvoked({ publisher: 'p', channel: CH, key, payload });
      const fate = rnd();
      if (fate < 0.04) {
        attempt.failed('unavailable');
        continue;
      }
      if (fate < 0.08) {
        attempt.unknown('request_timeout'); // never applied
        continue;
      }
      offset++;
      retained = [...retained, { offset, payload }].slice(-HISTORY_SIZE);
      for (const s of subs) {
        if (!s.connected) continue;
        rec.delivered({ subscriber: s.name, channel: CH, epoch, offset, payload });
        s.pos = offset;
      }
      if (fate < 0.15)
        attempt.unknown('connection_lost'); // applied, reply lost
      else {
        attempt.acked({ epoch, offset });
        lastAck = { key, payload, epoch, offset };
      }
    } else if (r < 0.68 && lastAck) {
      const { key, payload } = lastAck;
      if (lastAck.epoch === epoch) {
        rec
          .publishInvoked({ publisher: 'p', channel: CH, key, payload })
          .acked({ epoch, offset: lastAck.offset, duplicate: true });
      }
    } else if (r < 0.8) {
      sub.connected = false;
    } else if (r < 0.97) {
      if (!sub.connected) resubscribe(sub);
    } else if (r < 0.985) {
      epoch = `e${++epochNo}`;
      offset = 0;
      retained = [];
      for (const s of subs) s.connected = false;
    }
  }
  for (const s of subs) if (!s.connected) resubscribe(s);
  rec.finalHistory({ channel: CH, epoch, offset, publications: retained });
  return rec.history();
}

const SEEDS = Array.from({ length: 30 }, (_, i) => 1_000 + i * 7_919);

function flagged(r: ChannelCheckResult): number {
  return Object.values(r.counts).reduce((a, b) => a + b, 0);
}

describe('checkChannelHistory on simulated histories', () => {
  it.each(SEEDS)('passes a history that keeps every guarantee (seed %i)', (seed) => {
    const r = checkChannelHistory(simulate(seed));
    expect(r.ok, `seed ${seed}: ${r.summary}`).toBe(true);
  });

  it.each(SEEDS)('flags any one delivery taken out (seed %i)', (seed) => {
    const h = simulate(seed);
    const rnd = prng(seed ^ 0x5eed);
    const deliveries = h.events.flatMap((e, i) => (e.type === 'delivery' ? [i] : []));
    const drop = deliveries[Math.floor(rnd() * deliveries.length)] ?? 0;
    const r = checkChannelHistory({ ...h, events: h.events.filter((_, i) => i !== drop) });
    expect(r.ok, `seed ${seed}, dropped event ${drop}: ${r.summary}`).toBe(false);
    expect(r.counts.gap + r.counts['uncovered-miss'], r.summary).toBe(1);
    expect(flagged(r), r.summary).toBe(1);
  });
});
