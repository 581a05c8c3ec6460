import type { Broker, HistoryOptions } from '@syncline/server';
import { expect, it } from 'vitest';
import { uniqueName } from './wait.js';

const KEEP: HistoryOptions = { size: 100, ttlMs: 600_000 };

function offsets(list: ReadonlyArray<{ offset: number }>): number[] {
  return list.map((p) => p.offset);
}

/**
 * Cases of `Broker.historyBefore` (history read backwards, and the position
 * read with `limit` 0), registered inside the broker contract's `describe`.
 */
export function historyBeforeCases(oneNode: () => Promise<Broker>): void {
  it('reads history backwards: the newest publications below `before`, oldest first', async () => {
    const broker = await oneNode();
    const ch = uniqueName('t');
    for (let i = 1; i <= 10; i++) {
      await broker.publish({ channel: ch, data: { i }, user: i === 7 ? 'carol' : undefined, history: KEEP });
    }
    const newest = await broker.historyBefore(ch, { before: 11, limit: 3, history: KEEP });
    expect(offsets(newest.publications)).toEqual([8, 9, 10]);
    expect(newest).toMatchObject({ offset: 10, minOffset: 1 });
    const older = await broker.historyBefore(ch, { before: 8, limit: 3, history: KEEP });
    expect(offsets(older.publications)).toEqual([5, 6, 7]);
    expect(older.publications[2]).toMatchObject({ data: { i: 7 }, user: 'carol' });
    expect(older.publications[1]?.user).toBeUndefined();
    expect(offsets((await broker.historyBefore(ch, { before: 3, limit: 5, history: KEEP })).publications)).toEqual([
      1, 2,
    ]);
    expect((await broker.historyBefore(ch, { before: 1, limit: 5, history: KEEP })).publications).toEqual([]);
    // Past the top (even far past it) reads the newest.
    const far = await broker.historyBefore(ch, { before: Number.MAX_SAFE_INTEGER, limit: 2, history: KEEP });
    expect(offsets(far.publications)).toEqual([9, 10]);
    expect(far.epoch).toBe(newest.epoch);
  });

  it('reads backwards only within the retained history', async () => {
    const broker = await oneNode();
    const ch = uniqueName('t');
    const small: HistoryOptions = { size: 4, ttlMs: 600_000 };
    for (let i = 1; i <= 9; i++) await broker.publish({ channel: ch, data: i, history: small });
    const read = await broker.historyBefore(ch, { before: 8, limit: 10, history: small });
    expect(read).toMatchObject({ offset: 9, minOffset: 6 });
    expect(offsets(read.publications)).toEqual([6, 7]);
    expect((await broker.historyBefore(ch, { before: 6, limit: 10, history: small })).publications).toEqual([]);
  });

  it('with limit 0 reads the position only: epoch, top and oldest retained offset', async () => {
    const broker = await oneNode();
    const ch = uniqueName('t');
    const fresh = await broker.historyBefore(ch, { before: 1, limit: 0, history: KEEP });
    expect(fresh).toEqual({ epoch: (await broker.top(ch)).epoch, offset: 0, minOffset: 0, publications: [] });
    const small: HistoryOptions = { size: 3, ttlMs: 600_000 };
    for (let i = 1; i <= 5; i++) await broker.publish({ channel: ch, data: i, history: small });
    const pos = await broker.historyBefore(ch, { before: Number.MAX_SAFE_INTEGER, limit: 0, history: small });
    expect(pos).toEqual({ epoch: fresh.epoch, offset: 5, minOffset: 3, publications: [] });
    // Reading the position leaves the history alone.
    const all = await broker.history(ch, { since: 0, limit: 10, history: small });
    expect(offsets(all.publications)).toEqual([3, 4, 5]);
    const none = await broker.historyBefore(ch, { before: 6, limit: 0, history: { size: 0, ttlMs: 600_000 } });
    expect(none.offset).toBe(5);
    expect(none.publications).toEqual([]);
  });
}
