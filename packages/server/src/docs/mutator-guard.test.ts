import { describe, expect, it } from 'vitest';
import { MutatorGuard } from './mutator-guard.js';

function spin(ms: number): number {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) n++;
  return n;
}

describe('MutatorGuard', () => {
  it('stops a runaway job of a batch; the others of the batch complete', async () => {
    const guard = new MutatorGuard(50);
    const started = performance.now();
    const results = await Promise.all([
      guard.run(() => 1),
      guard.run(() => {
        for (;;) spin(1);
      }),
      guard.run(() => 3),
      guard.run(() => {
        throw 'plain string';
      }),
    ]);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(results.map(({ elapsedMs: _, ...r }) => r)).toEqual([
      { kind: 'ok', value: 1 },
      { kind: 'timeout', limitMs: 50 },
      { kind: 'ok', value: 3 },
      { kind: 'threw', error: 'plain string' },
    ]);
    // A stopped job is charged the whole budget.
    expect(results[1]?.elapsedMs).toBe(50);
  });

  it('gives every job the whole budget: one stopped while sharing it runs again alone', async () => {
    const guard = new MutatorGuard(100);
    let runsOfSecond = 0;
    const results = await Promise.all([
      guard.run(() => spin(40) > 0),
      guard.run(() => {
        runsOfSecond++;
        return spin(70) > 0;
      }),
    ]);
    expect(results.map(({ elapsedMs: _, ...r }) => r)).toEqual([
      { kind: 'ok', value: true },
      { kind: 'ok', value: true },
    ]);
    // Started 40 ms into the call, stopped at 100 ms, then completed in a call of its own.
    expect(runsOfSecond).toBe(2);
    // Each job's time is measured: what its own run took.
    expect(results[0]?.elapsedMs).toBeGreaterThanOrEqual(39);
    expect(results[1]?.elapsedMs).toBeGreaterThanOrEqual(69);
  });

  it('yields to the event loop between budgets when many slow jobs queue up', async () => {
    const guard = new MutatorGuard(40);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const jobs = Array.from({ length: 8 }, () => guard.run(() => spin(30)));
    await Promise.all(jobs);
    clearInterval(ticker);
    // 8 × 30 ms of work in flushes of at most ~2 budgets: timers ran in between.
    expect(ticks).toBeGreaterThanOrEqual(2);
  });

  it('runs jobs at once, unguarded, with a budget of 0', async () => {
    const guard = new MutatorGuard(0);
    let ran = false;
    const p = guard.run(() => {
      ran = true;
      return 'x';
    });
    expect(ran).toBe(true);
    expect(await p).toMatchObject({ kind: 'ok', value: 'x' });
  });
});
