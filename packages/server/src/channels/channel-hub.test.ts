import { jsonCodec, msgpackCodec, type PubMessage } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import type { SharedFrame } from '../session/shared-frame.js';
import { ScriptedBroker } from '../testing/scripted-broker.js';
import { ChannelHub, FANOUT_SLICE_MIN_SINKS, pubFrame, type SubscriptionSink } from './channel-hub.js';

const HISTORY = { size: 100, ttlMs: 60_000 };
const CH = 'chat:a';

/** A sink that records the offsets (and epoch resets) it is handed. */
interface RecordingSink extends SubscriptionSink {
  readonly offsets: number[];
  readonly frames: SharedFrame[];
  resets: number;
}

function sink(options: { status?: 'pending' | 'active'; lastOffset?: number; epoch?: string } = {}): RecordingSink {
  const s: RecordingSink = {
    status: options.status ?? 'active',
    lastOffset: options.lastOffset ?? 0,
    buffer: [],
    epoch: options.epoch,
    offsets: [],
    frames: [],
    resets: 0,
    push: (frame) => {
      s.frames.push(frame);
      s.offsets.push((frame.message as PubMessage).offset);
    },
    reset: () => {
      s.resets++;
    },
  };
  return s;
}

async function hubWith(...sinks: SubscriptionSink[]) {
  const broker = new ScriptedBroker();
  const errors: unknown[] = [];
  const hub = new ChannelHub(broker, (err) => errors.push(err));
  for (const s of sinks) await hub.add(CH, s, HISTORY);
  return { broker, hub, errors };
}

/** Publishes `n` publications through the broker (stored and delivered). */
async function publish(broker: ScriptedBroker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await broker.publish({ channel: CH, data: { i }, history: HISTORY });
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('ChannelHub', () => {
  it('delivers every publication once, in offset order, as the pub frame', async () => {
    const a = sink();
    const b = sink();
    const { broker, hub } = await hubWith(a, b);
    await publish(broker, 3);
    broker.deliver(broker.stored(CH, 2));
    expect({ a: a.offsets, b: b.offsets }).toEqual({ a: [1, 2, 3], b: [1, 2, 3] });
    // One frame object per publication, shared by every subscriber.
    expect(a.frames[0]).toBe(b.frames[0]);
    expect(a.frames[0]?.message).toEqual({ type: 'pub', channel: CH, offset: 1, ts: 1_000, data: { i: 0 } });
    expect({ publicationsOut: hub.publicationsOut, deliveries: hub.deliveries }).toEqual({
      publicationsOut: 3,
      deliveries: 6,
    });
  });

  it('repairs a gap from history before delivering past it; live publications wait for the repair', async () => {
    const s = sink();
    const { broker, errors } = await hubWith(s);
    await publish(broker, 2);
    // The broker drops 3 and 4 on the way to this node (a planted gap).
    broker.append(CH, 'three');
    broker.append(CH, 'four');
    await publish(broker, 2);
    expect(broker.historyCalls).toEqual([{ channel: CH, since: 2, limit: 2 }]);
    await expect.poll(() => s.offsets).toEqual(range(1, 6));
    expect(errors).toEqual([]);
  });

  it('a gap history cannot fill is passed after the repair (the subscriber recovers it), never blocking the channel', async () => {
    const s = sink();
    const { broker } = await hubWith(s);
    await publish(broker, 1);
    broker.append(CH, 'lost');
    broker.append(CH, 'kept');
    broker.loseFromHistory(CH, 2);
    await publish(broker, 1);
    await expect.poll(() => s.offsets).toEqual([1, 3, 4]);
    // History lost every missing offset: the gap is passed after one read, not read again and again.
    broker.append(CH, 'lost too');
    broker.loseFromHistory(CH, 5);
    await publish(broker, 1);
    await expect.poll(() => s.offsets).toEqual([1, 3, 4, 6]);
    expect(broker.historyCalls.map((c) => c.since)).toEqual([1, 4]);
  });

  it('a failed history read is reported once and delivery goes on past the gap (no retry loop)', async () => {
    const s = sink();
    const { broker, errors } = await hubWith(s);
    await publish(broker, 1);
    broker.append(CH, 'missing');
    // History fails fast (a broker that knows its backend is down) many times in a row.
    const read = broker.history.bind(broker);
    let failures = 0;
    broker.history = async (channel, options) => {
      if (failures < 1_000) {
        failures++;
        throw new Error('history down');
      }
      return read(channel, options);
    };
    await publish(broker, 1);
    // One turn of the event loop: a repair that retried at once would have spun through every failure by now.
    await new Promise((resolve) => setImmediate(resolve));
    expect({ failures, offsets: s.offsets, errors: errors.length }).toEqual({
      failures: 1,
      offsets: [1, 3],
      errors: 1,
    });
  });

  it('a publication of a new epoch resets subscribers positioned in the old one', async () => {
    const old = sink({ epoch: 'e1' });
    const unknownEpoch = sink();
    const { broker } = await hubWith(old, unknownEpoch);
    await publish(broker, 2);
    broker.changeEpoch(CH, 'e2', 0, false);
    await publish(broker, 1);
    expect(old.resets).toBe(1);
    expect(unknownEpoch.resets).toBe(0);
    // Offset 1 of the new epoch is not a step back: it goes to the subscriber without an epoch.
    expect(unknownEpoch.offsets).toEqual([1, 2]);
    expect(broker.historyCalls).toEqual([]);
  });

  it('onEpoch: an epoch change with no publication resets stale subscribers at once and takes the new top', async () => {
    const old = sink({ epoch: 'e1' });
    const fresh = sink();
    const { broker } = await hubWith(old, fresh);
    await publish(broker, 3);
    broker.changeEpoch(CH, 'e2', 10);
    expect({ old: old.resets, fresh: fresh.resets }).toEqual({ old: 1, fresh: 0 });
    // `fresh` resubscribed in the new epoch, at its top.
    fresh.epoch = 'e2';
    fresh.lastOffset = 10;
    // The next publication follows the new top: no gap, no history read.
    await publish(broker, 1);
    expect(broker.historyCalls).toEqual([]);
    expect(fresh.offsets).toEqual([1, 2, 3, 11]);
    // The same epoch again is not a change.
    broker.changeEpoch(CH, 'e2', 11);
    expect({ old: old.resets, fresh: fresh.resets }).toEqual({ old: 1, fresh: 0 });
  });

  it('onEpoch during a gap repair is left to the publications that follow it', async () => {
    const old = sink({ epoch: 'e1' });
    const { broker } = await hubWith(old);
    await publish(broker, 1);
    broker.append(CH, 'gap');
    const release = broker.holdHistory();
    await publish(broker, 1);
    expect(broker.historyCalls).toEqual([{ channel: CH, since: 1, limit: 1 }]);
    // The repair's history read is in flight: the epoch change waits for what follows it.
    broker.changeEpoch(CH, 'e2', 0);
    expect(old.resets).toBe(0);
    release();
    // The read answers from the new epoch: nothing of it is mixed into e1; the queued offset 3 goes out.
    await expect.poll(() => old.offsets).toEqual([1, 3]);
    await publish(broker, 1);
    expect(old.resets).toBe(1);
  });

  it('a pending sink buffers until activate, then gets what is past its position', async () => {
    const live = sink();
    const { broker, hub } = await hubWith(live);
    await publish(broker, 2);
    const late = sink({ status: 'pending', lastOffset: 2, epoch: 'e1' });
    await hub.add(CH, late, HISTORY);
    await publish(broker, 2);
    broker.deliver(broker.stored(CH, 2));
    expect(late.offsets).toEqual([]);
    expect(late.buffer.map((p) => p.offset)).toEqual([3, 4]);
    // The subscribe reply covered offset 3 already.
    late.lastOffset = 3;
    hub.activate(late);
    expect(late.offsets).toEqual([4]);
    await publish(broker, 1);
    expect({ live: live.offsets, late: late.offsets }).toEqual({ live: range(1, 5), late: [4, 5] });
  });

  it('activate resets a sink whose buffer holds another epoch than its position', async () => {
    const { broker, hub } = await hubWith(sink());
    const pending = sink({ status: 'pending', epoch: 'e1' });
    await hub.add(CH, pending, HISTORY);
    broker.changeEpoch(CH, 'e2', 0, false);
    await publish(broker, 1);
    hub.activate(pending);
    expect({ resets: pending.resets, offsets: pending.offsets }).toEqual({ resets: 1, offsets: [] });
  });

  it('leaves the broker channel with its last local subscriber; a failed broker subscribe is reported', async () => {
    const a = sink();
    const b = sink();
    const { broker, hub, errors } = await hubWith(a, b);
    hub.remove(CH, a);
    expect(broker.unsubscribed).toEqual([]);
    hub.remove(CH, b);
    expect(broker.unsubscribed).toEqual([CH]);
    expect(hub.channelCount).toBe(0);

    broker.subscribeError = new Error('broker down');
    await expect(hub.add('chat:b', sink(), HISTORY)).rejects.toThrow('broker down');
    expect(errors).toEqual([new Error('broker down')]);
    expect(hub.channelCount).toBe(0);
  });

  it('a large channel fans out in slices and keeps every subscriber in offset order', async () => {
    const sinks = Array.from({ length: FANOUT_SLICE_MIN_SINKS + 10 }, () => sink());
    const { broker } = await hubWith(...sinks);
    await publish(broker, 3);
    await publish(broker, 2);
    const wrong = (): string[] =>
      sinks.flatMap((s, i) => (s.offsets.join() === '1,2,3,4,5' ? [] : [`#${i}: ${s.offsets.join()}`])).slice(0, 3);
    await expect.poll(wrong).toEqual([]);
  });
});

describe('pubFrame', () => {
  it("embeds the broker's JSON text of the data: the same frame as encoding the message", () => {
    const data = { text: 'hé "quoted"\n', n: [1, 2.5, null], nested: { ok: true } };
    for (const user of [undefined, 'u"1']) {
      const base = { channel: 'chat:"a"', epoch: 'e', offset: 7, ts: 1_733_300_000_123, data };
      const plain = pubFrame(user === undefined ? base : { ...base, user });
      const pub = { ...base, json: JSON.stringify(data) };
      const reused = pubFrame(user === undefined ? pub : { ...pub, user });
      expect(reused.frameFor(jsonCodec)).toBe(plain.frameFor(jsonCodec));
      expect(reused.message).toEqual(plain.message);
      expect(reused.frameFor(msgpackCodec)).toEqual(plain.frameFor(msgpackCodec));
    }
  });

  it('gives the same frames whichever codec asks first', () => {
    const data = { text: 'hé', n: [1, 2.5, null] };
    const pub = { channel: 'chat:a', epoch: 'e', offset: 3, ts: 1_733_300_000_456, user: 'u1', data };
    const message = { type: 'pub', channel: 'chat:a', offset: 3, ts: 1_733_300_000_456, user: 'u1', data };
    const frame = pubFrame({ ...pub, json: JSON.stringify(data) });
    const packed = frame.frameFor(msgpackCodec);
    expect(Buffer.from(packed as Uint8Array).equals(Buffer.from(msgpackCodec.encode(message) as Uint8Array))).toBe(
      true,
    );
    expect(frame.frameFor(jsonCodec)).toBe(jsonCodec.encode(message));
    expect(frame.frameFor(msgpackCodec)).toBe(packed);
    expect(frame.frameFor(jsonCodec)).toBe(frame.frameFor(jsonCodec));
  });
});
