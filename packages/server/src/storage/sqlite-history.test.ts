import { describe, expect, it } from 'vitest';
import type { PublishInput } from '../broker/broker.js';
import { keyHash } from './key-hashes.js';
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
    h.flush();
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
    h.flush();
    expect(db.prepare('SELECT top FROM channels WHERE name = ?').get('chat:one')).toEqual({ top: 0 });
    expect(new SqliteHistory(db).top('chat:one').offset).toBe(2);
    // Without history nothing else holds the top: the channel row does.
    const none = { size: 0, ttlMs: 1_000 };
    h.appendBatch([{ channel: 'nohist:one', data: 1, history: none }], Date.now());
    h.flush();
    expect(db.prepare('SELECT top FROM channels WHERE name = ?').get('nohist:one')).toEqual({ top: 1 });
    db.close();
  });

  it('finds the channels to trim by TTL in a database written before the minutes table (migrated)', () => {
    const db = openDatabase(':memory:');
    const brief = { size: 100, ttlMs: 1_000 };
    const h = new SqliteHistory(db);
    const then = Date.now() - 120_000;
    h.appendBatch([{ channel: 'chat:old', data: 1, history: brief }], then);
    h.flush();
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

  it('finds idempotency keys within the retained history, across reopening, without an index of keys', () => {
    const db = openDatabase(':memory:');
    const h = new SqliteHistory(db);
    const now = Date.now();
    const publish = (hist: SqliteHistory, key: string, data: unknown, at = now) =>
      hist.appendBatch([{ channel: 'chat:k', data, key, history }], at)[0];
    expect(publish(h, 'a', 1)).toMatchObject({ offset: 1, duplicate: false });
    // Twice in one batch: the second is the first's duplicate.
    const both = h.appendBatch(
      [
        { channel: 'chat:k', data: 2, key: 'b', history },
        { channel: 'chat:k', data: 2, key: 'b', history },
      ],
      now,
    );
    expect(both.map((o) => [o.offset, o.duplicate])).toEqual([
      [2, false],
      [2, true],
    ]);
    expect(publish(h, 'a', 'again')).toMatchObject({ offset: 1, duplicate: true });
    // A reopened history (a restarted server) loads the channel's keys from its rows.
    h.flush();
    const reopened = new SqliteHistory(db);
    expect(publish(reopened, 'b', 'again')).toMatchObject({ offset: 2, duplicate: true });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'publications_key'").get()).toBeUndefined();
    // Past the size window (3), a key counts as new; the newest publication with it is the one found.
    for (const k of ['c', 'd', 'e']) publish(reopened, k, k);
    expect(publish(reopened, 'a', 'new')).toMatchObject({ offset: 6, duplicate: false });
    reopened.flush();
    expect(publish(new SqliteHistory(db), 'a', 'dup')).toMatchObject({ offset: 6, duplicate: true });
    // Past the TTL (trimmed or not yet), too.
    const brief = { size: 100, ttlMs: 1_000 };
    const old = h.appendBatch([{ channel: 'chat:t', data: 1, key: 'x', history: brief }], now - 5_000)[0];
    expect(h.appendBatch([{ channel: 'chat:t', data: 2, key: 'x', history: brief }], now)[0]).toMatchObject({
      offset: (old?.offset ?? 0) + 1,
      duplicate: false,
    });
    h.flush();
    expect(
      new SqliteHistory(db).appendBatch([{ channel: 'chat:t', data: 3, key: 'x', history: brief }], now)[0],
    ).toMatchObject({
      offset: 2,
      duplicate: true,
    });
    expect(reopened.read('chat:k', 0, 10, history, now).publications.map((p) => p.data)).toEqual(['d', 'e', 'new']);
    db.close();
  });

  it('keeps the idempotency keys in memory bounded, and still finds duplicates past the bound', () => {
    const db = openDatabase(':memory:');
    const h = new SqliteHistory(db, { maxCachedKeys: 50 });
    const big = { size: 1_000, ttlMs: 60_000 };
    const now = Date.now();
    // One channel: keys that left the size window are let go as it moves.
    const small = { size: 5, ttlMs: 60_000 };
    for (let i = 0; i < 40; i++) h.appendBatch([{ channel: 'chat:s', data: i, key: `s${i}`, history: small }], now);
    expect(h.cachedKeys).toBeLessThanOrEqual(2 * small.size + 16);
    // Many channels: past the cap every channel's keys are dropped, then reloaded from the rows.
    for (let i = 0; i < 200; i++)
      h.appendBatch([{ channel: `chat:m${i % 20}`, data: i, key: `m${i}`, history: big }], now);
    expect(h.cachedKeys).toBeLessThanOrEqual(50);
    for (let i = 0; i < 200; i += 7) {
      const out = h.appendBatch([{ channel: `chat:m${i % 20}`, data: 'retry', key: `m${i}`, history: big }], now)[0];
      expect(out).toMatchObject({ offset: Math.floor(i / 20) + 1, duplicate: true });
    }
    expect(h.cachedKeys).toBeLessThanOrEqual(50);
    db.close();
  });

  it('keeps publications waiting when their move fails, and moves each once after', () => {
    const db = openDatabase(':memory:');
    const h = new SqliteHistory(db);
    const now = Date.now();
    h.appendBatch([{ channel: 'chat:r', data: 0, key: 'first', history }], now);
    h.flush();
    const seen: number[] = [];
    let refuse = true;
    h.onAppend((appended) => {
      if (refuse) throw new Error('storage refused');
      seen.push(...appended.map((p) => p.offset));
    });
    // Acknowledged (logged) even though the database refuses it for now.
    expect(h.appendBatch([{ channel: 'chat:r', data: 1, key: 'second', history }], now)[0]).toMatchObject({
      offset: 2,
      duplicate: false,
    });
    expect(() => h.flush()).toThrow('storage refused');
    expect(() => h.read('chat:r', 0, 10, history, now)).toThrow('storage refused');
    // Its key is known while it waits, and offsets go on.
    expect(h.appendBatch([{ channel: 'chat:r', data: 1, key: 'second', history }], now)[0]).toMatchObject({
      offset: 2,
      duplicate: true,
    });
    expect(h.appendBatch([{ channel: 'chat:r', data: 2, history }], now)[0]).toMatchObject({ offset: 3 });
    refuse = false;
    expect(h.read('chat:r', 0, 10, history, now).publications.map((p) => p.data)).toEqual([0, 1, 2]);
    expect(seen).toEqual([2, 3]);
    h.flush();
    expect(seen).toEqual([2, 3]);
    db.close();
  });

  it('tells keys apart that share a hash', () => {
    const db = openDatabase(':memory:');
    const basis = 12_345;
    // Two keys with one hash, found by trying keys.
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const k = `user:${i}`;
      const other = seen.get(keyHash(basis, k));
      if (other !== undefined) pair = [other, k];
      else seen.set(keyHash(basis, k), k);
    }
    const [a, b] = pair;
    const big = { size: 1_000, ttlMs: 60_000 };
    const h = new SqliteHistory(db, { hashBasis: basis });
    const publish = (hist: SqliteHistory, key: string) =>
      hist.appendBatch([{ channel: 'chat:h', data: key, key, history: big }], Date.now())[0];
    expect(publish(h, a)).toMatchObject({ offset: 1, duplicate: false });
    expect(publish(h, 'other')).toMatchObject({ offset: 2, duplicate: false });
    expect(publish(h, b)).toMatchObject({ offset: 3, duplicate: false });
    h.flush();
    for (const hist of [h, new SqliteHistory(db, { hashBasis: basis })]) {
      expect(publish(hist, a)).toMatchObject({ offset: 1, duplicate: true });
      expect(publish(hist, b)).toMatchObject({ offset: 3, duplicate: true });
      expect(publish(hist, 'other')).toMatchObject({ offset: 2, duplicate: true });
    }
    expect(publish(h, 'new')).toMatchObject({ offset: 4, duplicate: false });
    db.close();
  });

  it('trims by size in chunks, and reads never show more than the size', () => {
    const db = openDatabase(':memory:');
    const h = new SqliteHistory(db);
    const sized = { size: 16, ttlMs: 60_000 };
    const now = Date.now();
    const rows = () =>
      (db.prepare('SELECT COUNT(*) AS n FROM publications WHERE channel = ?').get('chat:z') as { n: number }).n;
    let most = 0;
    for (let i = 1; i <= 100; i++) {
      h.appendBatch([{ channel: 'chat:z', data: i, key: `k${i}`, history: sized }], now);
      most = Math.max(most, rows());
      const read = h.read('chat:z', 0, 100, sized, now);
      expect(read.publications.map((p) => p.offset)).toEqual(
        Array.from({ length: Math.min(i, 16) }, (_, j) => Math.max(1, i - 15) + j),
      );
      expect(read.minOffset).toBe(Math.max(1, i - 15));
      const before = h.readBefore('chat:z', i + 1, 100, sized, now);
      expect(before.publications).toHaveLength(Math.min(i, 16));
    }
    // Rows past the size are deleted two (an eighth of it) at a time, so at most one waits.
    expect(most).toBe(16 + 1);
    // A reopened history hides the same rows, and their keys are new again.
    const again = new SqliteHistory(db);
    expect(again.read('chat:z', 0, 100, sized, now).publications).toHaveLength(16);
    expect(again.appendBatch([{ channel: 'chat:z', data: 'k', key: 'k84', history: sized }], now)[0]).toMatchObject({
      offset: 101,
      duplicate: false,
    });
    expect(again.appendBatch([{ channel: 'chat:z', data: 'k', key: 'k86', history: sized }], now)[0]).toMatchObject({
      offset: 86,
      duplicate: true,
    });
    db.close();
  });
});
