import { describe, expect, it, vi } from 'vitest';
import { QuietTimer } from './quiet-timer.js';
import { SubscriptionOrder } from './subscription-order.js';

/** A command the test settles by hand. */
function deferred(): { promise: Promise<string>; resolve: (v: string) => void; reject: (e: Error) => void } {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SubscriptionOrder', () => {
  it('starts a channel’s command only after its previous one settled (even when that one is slow or fails)', async () => {
    const order = new SubscriptionOrder();
    const sent: string[] = [];
    const unsubscribe = deferred();
    const first = order.run('a', () => {
      sent.push('unsubscribe a');
      return unsubscribe.promise;
    });
    const second = order.run('a', async () => {
      sent.push('subscribe a');
      return 'subscribed';
    });
    // Another channel is not held up.
    const other = order.run('b', async () => {
      sent.push('subscribe b');
      return 'b';
    });
    await other;
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual(['unsubscribe a', 'subscribe b']);
    expect(order.pending).toBe(1);
    // The unsubscribe fails late (it was resent and gave up): the subscribe goes after it all the same.
    unsubscribe.reject(new Error('Connection is closed.'));
    await expect(first).rejects.toThrow('Connection is closed.');
    expect(await second).toBe('subscribed');
    expect(sent).toEqual(['unsubscribe a', 'subscribe b', 'subscribe a']);
    await new Promise((r) => setTimeout(r, 0));
    expect(order.pending).toBe(0);
  });

  it('a command that throws at once rejects its own call only', async () => {
    const order = new SubscriptionOrder();
    await expect(
      order.run('a', () => {
        throw new Error('bad');
      }),
    ).rejects.toThrow('bad');
    expect(await order.run('a', async () => 'next')).toBe('next');
  });
});

describe('QuietTimer', () => {
  it('runs once per burst, after it went quiet, and at the latest the max wait after its first poke', () => {
    vi.useFakeTimers();
    try {
      let runs = 0;
      const t = new QuietTimer(() => runs++, 200, 1_000);
      t.poke();
      vi.advanceTimersByTime(150);
      t.poke();
      vi.advanceTimersByTime(150);
      expect(runs).toBe(0);
      vi.advanceTimersByTime(60);
      expect(runs).toBe(1);
      // A burst that never goes quiet still runs by the max wait.
      for (let i = 0; i < 12; i++) {
        t.poke();
        vi.advanceTimersByTime(100);
      }
      expect(runs).toBe(2);
      t.cancel();
      vi.advanceTimersByTime(5_000);
      expect(runs).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
