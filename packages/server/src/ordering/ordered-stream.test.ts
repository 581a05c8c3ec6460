import { describe, expect, it } from 'vitest';
import { OrderedStream } from './ordered-stream.js';

/** An item of a test stream: its position and a tag saying where it came from. */
interface Item {
  readonly n: number;
  readonly from: 'live' | 'fill';
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (err: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise callback run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const live = (...ns: number[]): Item[] => ns.map((n) => ({ n, from: 'live' }));
const filled = (...ns: number[]): Item[] => ns.map((n) => ({ n, from: 'fill' }));

/**
 * A stream whose `fill` answers from `source` (the positions history still
 * has) unless a test holds or fails it; records every delivery and fill call.
 */
function harness(source: readonly number[] = []) {
  const delivered: Item[] = [];
  const fills: Array<{ after: number; before: number }> = [];
  const errors: unknown[] = [];
  const arrived: number[] = [];
  let held: Deferred<readonly Item[]> | undefined;
  let failWith: Error | undefined;
  const stream = new OrderedStream<Item>({
    position: (item) => item.n,
    onArrive: (item) => arrived.push(item.n),
    fill: (after, before) => {
      fills.push({ after, before: before.n });
      if (failWith) return Promise.reject(failWith);
      if (held) return held.promise;
      return Promise.resolve(filled(...source.filter((n) => n > after && n < before.n)));
    },
    deliver: (item) => delivered.push(item),
    onError: (err) => errors.push(err),
  });
  return {
    stream,
    delivered,
    fills,
    errors,
    arrived,
    positions: () => delivered.map((d) => d.n),
    hold(): Deferred<readonly Item[]> {
      held = deferred();
      return held;
    },
    release(): void {
      held = undefined;
    },
    fail(err: Error | undefined): void {
      failWith = err;
    },
    receive(...items: Item[]): void {
      for (const item of items) stream.receive(item);
    },
  };
}

describe('OrderedStream', () => {
  it('delivers the first item whatever its position, then consecutive ones at once', () => {
    const h = harness();
    h.receive(...live(7, 8, 9));
    expect(h.positions()).toEqual([7, 8, 9]);
    expect(h.stream.last).toBe(9);
    expect(h.fills).toEqual([]);
  });

  it('drops duplicates and items older than the last delivered', () => {
    const h = harness();
    h.receive(...live(1, 2, 2, 3, 1, 3, 4));
    expect(h.positions()).toEqual([1, 2, 3, 4]);
    expect(h.arrived).toEqual([1, 2, 2, 3, 1, 3, 4]);
  });

  it('fills a planted gap from fill before delivering past it', async () => {
    const h = harness([1, 2, 3, 4, 5, 6]);
    h.receive(...live(1, 2, 6));
    expect(h.positions()).toEqual([1, 2]);
    expect(h.stream.repairing).toBe(true);
    await settle();
    expect(h.fills).toEqual([{ after: 2, before: 6 }]);
    expect(h.delivered).toEqual([...live(1, 2), ...filled(3, 4, 5), ...live(6)]);
    expect(h.stream.repairing).toBe(false);
  });

  it('queues items arriving during a repair and takes them up in arrival order afterwards', async () => {
    const h = harness();
    const fill = h.hold();
    h.receive(...live(1, 4));
    h.receive(...live(5, 4, 2, 6));
    expect(h.positions()).toEqual([1]);
    // Queued items are not looked at until the repair ends.
    expect(h.arrived).toEqual([1, 4]);
    fill.resolve(filled(2, 3));
    await settle();
    expect(h.delivered).toEqual([...live(1), ...filled(2, 3), ...live(4, 5, 6)]);
    expect(h.arrived).toEqual([1, 4, 4, 5, 4, 2, 6]);
    expect(h.fills).toEqual([{ after: 1, before: 4 }]);
  });

  it('orders out-of-order arrival: a new gap among queued items gets its own repair', async () => {
    const h = harness([1, 2, 3, 4, 5, 6, 7, 8]);
    h.receive(...live(1, 3));
    h.receive(...live(7, 2, 6, 5, 4, 8));
    await settle();
    expect(h.positions()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(h.fills).toEqual([
      { after: 1, before: 3 },
      { after: 3, before: 7 },
    ]);
    expect(h.delivered.filter((d) => d.from === 'fill').map((d) => d.n)).toEqual([2, 4, 5, 6]);
  });

  it('passes a gap after one failed repair and reports the error', async () => {
    const h = harness([1, 2, 3, 4]);
    const broken = new Error('history down');
    h.fail(broken);
    h.receive(...live(1, 4, 5));
    await settle();
    expect(h.positions()).toEqual([1, 4, 5]);
    expect(h.errors).toEqual([broken]);
    expect(h.fills).toEqual([{ after: 1, before: 4 }]);
    // The passed gap is not repaired again.
    h.fail(undefined);
    h.receive(...live(3, 6));
    expect(h.positions()).toEqual([1, 4, 5, 6]);
    expect(h.fills).toHaveLength(1);
  });

  it('treats a fill that throws synchronously like a failed one', async () => {
    const errors: unknown[] = [];
    const delivered: number[] = [];
    const stream = new OrderedStream<number>({
      position: (n) => n,
      fill: () => {
        throw new Error('sync');
      },
      deliver: (n) => delivered.push(n),
      onError: (err) => errors.push(err),
    });
    stream.receive(1);
    stream.receive(3);
    await settle();
    expect(delivered).toEqual([1, 3]);
    expect(errors).toHaveLength(1);
  });

  it('passes what a partial repair could not fill, once, and goes on', async () => {
    // History lost 4 and 5.
    const h = harness([1, 2, 3, 6, 7]);
    h.receive(...live(1, 7, 8));
    await settle();
    expect(h.delivered).toEqual([...live(1), ...filled(2, 3, 6), ...live(7, 8)]);
    expect(h.fills).toHaveLength(1);
  });

  it('uses only fill items inside the gap, in position order', async () => {
    const h = harness();
    const fill = h.hold();
    h.receive(...live(3, 6));
    h.receive(...live(7));
    fill.resolve(filled(5, 2, 3, 6, 9, 4));
    await settle();
    expect(h.delivered).toEqual([...live(3), ...filled(4, 5), ...live(6, 7)]);
  });

  it('after a restart delivers the next item whatever its position, and ignores a stale repair', async () => {
    const h = harness();
    const fill = h.hold();
    h.receive(...live(1, 5));
    h.receive(...live(6));
    expect(h.fills).toEqual([{ after: 1, before: 5 }]);
    h.stream.restart(0);
    fill.resolve(filled(2, 3, 4));
    await settle();
    // The stale fill delivers nothing; the queue is taken up from the restarted position.
    expect(h.delivered).toEqual(live(1, 5, 6));
    h.stream.restart(10);
    h.receive(...live(9, 10, 11));
    expect(h.positions()).toEqual([1, 5, 6, 11]);
  });

  it('reports what deliver throws when a repair completes and delivers the rest', async () => {
    const errors: unknown[] = [];
    const delivered: number[] = [];
    const stream = new OrderedStream<number>({
      position: (n) => n,
      fill: async () => [2],
      deliver: (n) => {
        if (n === 3) throw new Error('listener broke');
        delivered.push(n);
      },
      onError: (err) => errors.push(err),
    });
    stream.receive(1);
    stream.receive(3);
    stream.receive(4);
    await settle();
    expect(delivered).toEqual([1, 2, 4]);
    expect(errors).toHaveLength(1);
  });
});
