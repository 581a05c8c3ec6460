import { describe, expect, it } from 'vitest';
import type { PublishInput } from '../broker/broker.js';
import { openDatabase } from './sqlite.js';
import { SqliteHistory } from './sqlite-history.js';

const history = { size: 3, ttlMs: 60_000 };

describe('SqliteHistory', () => {
  it('appends batches touching more channels than the top cache holds', () => {
    const db = openDatabase(':memory:');
    const h = new SqliteHistory(db);
    const channels = 100_010;
    const inputs: PublishInput[] = Array.from({ length: channels }, (_, i) => ({
      channel: `chat:c${i}`,
      data: i,
      history,
    }));
    // The first channel again after the cache started over: its offset continues.
    inputs.push({ channel: 'chat:c0', data: 'again', history });
    const out = h.appendBatch(inputs, Date.now());
    expect(out).toHaveLength(channels + 1);
    expect(out[0]).toMatchObject({ offset: 1, duplicate: false });
    expect(out[channels]).toMatchObject({ offset: 2, duplicate: false, epoch: out[0]?.epoch });
    expect(h.top('chat:c0')).toEqual({ epoch: out[0]?.epoch, offset: 2 });
    expect(h.read('chat:c0', 0, 10, history, Date.now()).publications.map((p) => p.data)).toEqual([0, 'again']);
    db.close();
  });

  it('trims by size and keeps offsets and epochs across reopening', () => {
    const db = openDatabase(':memory:');
    const h = new SqliteHistory(db);
    const now = Date.now();
    for (let i = 1; i <= 5; i++) h.appendBatch([{ channel: 'chat:a', data: i, history }], now);
    const read = h.read('chat:a', 0, 10, history, now);
    expect(read.publications.map((p) => p.offset)).toEqual([3, 4, 5]);
    expect(read.minOffset).toBe(3);
    const again = new SqliteHistory(db);
    expect(again.top('chat:a')).toEqual({ epoch: read.epoch, offset: 5 });
    db.close();
  });

  it('trims expired publications and idempotency keys by TTL, per namespace', () => {
    const db = openDatabase(':memory:');
    const h = new SqliteHistory(db);
    const brief = { size: 100, ttlMs: 1_000 };
    const none = { size: 0, ttlMs: 1_000 };
    const then = Date.now() - 5_000;
    h.appendBatch(
      [
        { channel: 'chat:a', data: 1, key: 'k', history: brief },
        { channel: 'nohist:a', data: 1, key: 'k', history: none },
        { channel: 'other:a', data: 1, history: brief },
      ],
      then,
    );
    const now = Date.now();
    expect(h.trimExpired('chat', brief.ttlMs, now)).toBe(1);
    expect(h.trimExpired('nohist', none.ttlMs, now)).toBe(1);
    expect(db.prepare('SELECT COUNT(*) AS n FROM publications').get()).toEqual({ n: 1 });
    // The keys are new again; offsets go on.
    const out = h.appendBatch(
      [
        { channel: 'chat:a', data: 2, key: 'k', history: brief },
        { channel: 'nohist:a', data: 2, key: 'k', history: none },
      ],
      now,
    );
    expect(out.map((o) => [o.offset, o.duplicate])).toEqual([
      [2, false],
      [2, false],
    ]);
    db.close();
  });
});
