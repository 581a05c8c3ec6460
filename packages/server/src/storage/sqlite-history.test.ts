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

  it("keeps a channel's top across reopening when the TTL trim removed all its publications", () => {
    const db = openDatabase(':memory:');
    const h = new SqliteHistory(db);
    const brief = { size: 100, ttlMs: 1_000 };
    const then = Date.now() - 5_000;
    for (let i = 1; i <= 4; i++) h.appendBatch([{ channel: 'chat:gone', data: i, history: brief }], then);
    // Publications made before the trim carry the top in their rows; a reopened history reads it from them.
    expect(new SqliteHistory(db).top('chat:gone').offset).toBe(4);
    expect(h.trimExpired('chat', brief.ttlMs, Date.now())).toBe(4);
    expect(db.prepare('SELECT COUNT(*) AS n FROM publications').get()).toEqual({ n: 0 });
    const again = new SqliteHistory(db);
    expect(again.top('chat:gone')).toEqual(h.top('chat:gone'));
    expect(again.appendBatch([{ channel: 'chat:gone', data: 5, history: brief }], Date.now())[0]?.offset).toBe(5);
    db.close();
  });

  it('writes one row per publication with history (the channel row is not rewritten)', () => {
    const db = openDatabase(':memory:');
    const h = new SqliteHistory(db);
    h.appendBatch([{ channel: 'chat:one', data: 1, history }], Date.now());
    h.appendBatch([{ channel: 'chat:one', data: 2, history }], Date.now());
    expect(db.prepare('SELECT top FROM channels WHERE name = ?').get('chat:one')).toEqual({ top: 0 });
    expect(new SqliteHistory(db).top('chat:one').offset).toBe(2);
    // Without history nothing else holds the top: the channel row does.
    const none = { size: 0, ttlMs: 1_000 };
    h.appendBatch([{ channel: 'nohist:one', data: 1, history: none }], Date.now());
    expect(db.prepare('SELECT top FROM channels WHERE name = ?').get('nohist:one')).toEqual({ top: 1 });
    db.close();
  });

  it('finds the channels to trim by TTL in a database written before the minutes table (migrated)', () => {
    const db = openDatabase(':memory:');
    const brief = { size: 100, ttlMs: 1_000 };
    const h = new SqliteHistory(db);
    const then = Date.now() - 120_000;
    h.appendBatch([{ channel: 'chat:old', data: 1, history: brief }], then);
    // The schema as it was: an index of every publication's time, no minutes table.
    db.exec(`DROP TABLE publication_minutes; CREATE INDEX publications_ts ON publications (ts);
      DELETE FROM schema_migrations WHERE name = '003_publication_minutes';`);
    const again = new SqliteHistory(db);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'publications_ts'").get()).toBeUndefined();
    again.appendBatch([{ channel: 'chat:old', data: 2, history: brief }], Date.now());
    expect(again.trimExpired('chat', brief.ttlMs, Date.now())).toBe(1);
    expect(again.read('chat:old', 0, 10, brief, Date.now()).publications.map((p) => p.data)).toEqual([2]);
    // Expired minutes are gone; the current one stays.
    expect(db.prepare('SELECT COUNT(*) AS n FROM publication_minutes').get()).toEqual({ n: 1 });
    db.close();
  });
});
