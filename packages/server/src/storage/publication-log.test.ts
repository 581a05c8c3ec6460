import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LOG_MAP_BYTES, type LoggedPublication, type LogMode, PublicationLog, recordText } from './publication-log.js';
import { openDatabase, type SqliteDatabase } from './sqlite.js';
import { type AppendedPublication, MOVE_AT_COUNT, SqliteHistory } from './sqlite-history.js';

const history = { size: 100, ttlMs: 60_000 };
const none = { size: 0, ttlMs: 60_000 };

const dirs: string[] = [];
const open: SqliteDatabase[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A database file and its log in a fresh folder; `reopen` opens them again as a restarted process would. */
function files(): { db: string; log: string; reopen: () => { db: SqliteDatabase; h: SqliteHistory } } {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-publog-'));
  dirs.push(dir);
  const paths = { db: join(dir, 'syncline.db'), log: join(dir, 'syncline.db-publog') };
  return {
    ...paths,
    reopen: () => {
      const db = openDatabase(paths.db);
      open.push(db);
      return { db, h: new SqliteHistory(db, { logFile: paths.log }) };
    },
  };
}

const count = (db: SqliteDatabase, sql: string, ...args: unknown[]): number =>
  (db.prepare(sql).get(...args) as { n: number }).n;

/** The records a log file holds, read as a process starting on it would. */
function logged(file: string): LoggedPublication[] {
  const log = new PublicationLog(file, 'write');
  const { records } = log.read();
  log.close();
  return records;
}

/** Where the log's lines end in `file` (the first newline followed by nothing, a zero or an empty line). */
function linesEnd(file: string): number {
  const text = readFileSync(file, 'latin1');
  let end = 0;
  for (let nl = text.indexOf('\n'); nl >= 0 && nl + 1 < text.length; nl = text.indexOf('\n', nl + 1)) {
    end = nl + 1;
    const next = text.charCodeAt(nl + 1);
    if (next === 0 || next === 0x0a) break;
  }
  return text.endsWith('\n') && !text.includes('\0') ? text.length : end;
}

const record = (offset: number, text = `{"n":${offset}}`): LoggedPublication => ({
  channel: 'chat:r',
  epoch: 'e',
  offset,
  ts: 5,
  user: null,
  key: null,
  kept: true,
  text,
});

describe('PublicationLog', () => {
  it('maps its file into memory where the native addon is built (npm run build builds it)', () => {
    const f = files();
    const log = new PublicationLog(f.log);
    expect(log.mode).toBe('map');
    log.append([record(1)]);
    // The record is in the file as soon as it was copied, for a process that opens it next.
    expect(logged(f.log)).toEqual([record(1)]);
    log.close();
    expect(readFileSync(f.log).length).toBe(LOG_MAP_BYTES);
    expect(new PublicationLog(f.log, 'write').mode).toBe('write');
  });

  describe.each<LogMode>(['map', 'write'])('written with %s', (mode) => {
    it('reads records back, stopping at a line a kill or a power loss tore', () => {
      const f = files();
      const log = new PublicationLog(f.log, mode);
      const records: LoggedPublication[] = [
        { ...record(1), channel: 'chat:"a"\n', user: 'u', key: 'k', text: '{"x":[1,"\\n","é"]}' },
        { channel: 'nohist:b', epoch: 'e2', offset: 7, ts: 6, user: null, key: null, kept: false, text: undefined },
        { channel: 'nohist:b', epoch: 'e2', offset: 8, ts: 6, user: null, key: 'q', kept: false, text: '"seen"' },
      ];
      log.append(records);
      log.close();
      // A line cut short after the last one, as a write or a copy interrupted by the end of the process leaves it.
      const fd = openSync(f.log, 'r+');
      writeSync(fd, Buffer.from('9 1234abcd ["chat:c","e3",2,'), 0, undefined, linesEnd(f.log));
      closeSync(fd);
      const again = new PublicationLog(f.log, mode);
      expect(again.read()).toEqual({ records, skipped: 1 });
      // The next record overwrites the torn line.
      again.append([record(9)]);
      again.close();
      expect(logged(f.log)).toEqual([...records, record(9)]);
    });

    it('once emptied, reads back none of the older lines left behind the new ones', () => {
      const f = files();
      const log = new PublicationLog(f.log, mode);
      log.append([record(1, `"${'x'.repeat(100)}"`), record(2), record(3)]);
      log.clear();
      expect(logged(f.log)).toEqual([]);
      log.append([record(4)]);
      // What follows the new line (the rest of an older, longer one, in a mapped log) is no torn line.
      const reader = new PublicationLog(f.log, 'write');
      expect(reader.read()).toEqual({ records: [record(4)], skipped: 0 });
      reader.close();
      log.append([record(5)]);
      log.clear();
      log.close();
      expect(logged(f.log)).toEqual([]);
    });

    it('goes on after the records a stopped process left, above their generation', () => {
      const f = files();
      const first = new PublicationLog(f.log, mode);
      first.append([record(1), record(2)]);
      first.close();
      const second = new PublicationLog(f.log, mode);
      expect(second.read().records).toEqual([record(1), record(2)]);
      second.append([record(3)]);
      second.close();
      const third = new PublicationLog(f.log, mode);
      expect(third.read().records).toEqual([record(1), record(2), record(3)]);
      third.clear();
      third.append([record(4)]);
      third.close();
      expect(logged(f.log)).toEqual([record(4)]);
    });
  });

  it('reads a log written by the earlier version of the format (records alone, one per line)', () => {
    const f = files();
    writeFileSync(f.log, `${recordText(record(1))}\n${recordText(record(2))}\n`);
    const log = new PublicationLog(f.log);
    expect(log.read()).toEqual({ records: [record(1), record(2)], skipped: 0 });
    log.append([record(3)]);
    log.close();
    expect(logged(f.log)).toEqual([record(1), record(2), record(3)]);
  });
});

describe('SqliteHistory with its log', () => {
  it('acknowledges before storing, and a process started after a kill stores what was acknowledged, once', () => {
    const f = files();
    const first = f.reopen();
    const now = Date.now();
    const out = first.h.appendBatch(
      [
        { channel: 'chat:a', data: { n: 1 }, key: 'k1', user: 'ann', history },
        { channel: 'chat:a', data: { n: 2 }, history },
        { channel: 'nohist:a', data: 'gone', key: 'k1', history: none },
      ],
      now,
    );
    expect(out.map((o) => [o.offset, o.duplicate])).toEqual([
      [1, false],
      [2, false],
      [1, false],
    ]);
    // Logged, not stored yet.
    expect(count(first.db, 'SELECT COUNT(*) AS n FROM publications')).toBe(0);
    expect(logged(f.log)).toHaveLength(3);
    // The process dies here (no close, no move): a new one opens the same files.
    const second = f.reopen();
    expect(second.h.readBack).toEqual({ publications: 3, skipped: 0 });
    const appended: AppendedPublication[] = [];
    second.h.onAppend((a) => appended.push(...a));
    const read = second.h.read('chat:a', 0, 10, history, Date.now());
    expect(read.publications).toEqual([
      { offset: 1, data: { n: 1 }, ts: now, user: 'ann' },
      { offset: 2, data: { n: 2 }, ts: now },
    ]);
    expect(read.epoch).toBe(out[0]?.epoch);
    // Listeners added before the first read see the publications read back (for webhooks' at-least-once).
    expect(appended.map((p) => [p.channel, p.offset, p.data])).toEqual([
      ['chat:a', 1, { n: 1 }],
      ['chat:a', 2, { n: 2 }],
      ['nohist:a', 1, null],
    ]);
    expect(logged(f.log)).toEqual([]);
    // Offsets go on, and keys of both kinds are known.
    const next = second.h.appendBatch(
      [
        { channel: 'chat:a', data: 'again', key: 'k1', user: 'ann', history },
        { channel: 'nohist:a', data: 'again', key: 'k1', history: none },
        { channel: 'chat:a', data: 3, history },
        { channel: 'nohist:a', data: 2, history: none },
      ],
      Date.now(),
    );
    expect(next.map((o) => [o.offset, o.duplicate])).toEqual([
      [1, true],
      [1, true],
      [3, false],
      [2, false],
    ]);
    second.h.close();
    expect(count(second.db, 'SELECT COUNT(*) AS n FROM publications')).toBe(3);
    expect(count(second.db, "SELECT top AS n FROM channels WHERE name = 'nohist:a'")).toBe(2);
  });

  it('stores a publication read back from the log once when it had been stored before the stop', () => {
    const f = files();
    const first = f.reopen();
    const [o] = first.h.appendBatch([{ channel: 'chat:b', data: 'x', history }], Date.now());
    first.h.flush();
    // Stopped between the move's commit and emptying the log: the log holds a stored publication.
    const log = new PublicationLog(f.log);
    log.append([
      {
        channel: 'chat:b',
        epoch: o?.epoch ?? '',
        offset: 1,
        ts: Date.now(),
        user: null,
        key: null,
        kept: true,
        text: '"x"',
      },
    ]);
    log.close();
    const second = f.reopen();
    const seen: number[] = [];
    second.h.onAppend((a) => seen.push(...a.map((p) => p.offset)));
    expect(second.h.read('chat:b', 0, 10, history, Date.now()).publications.map((p) => p.data)).toEqual(['x']);
    expect(seen).toEqual([]);
    expect(second.h.appendBatch([{ channel: 'chat:b', data: 'y', history }], Date.now())[0]?.offset).toBe(2);
  });

  it('moves logged publications into the database within moments, and at once past a count', async () => {
    const f = files();
    const { db, h } = f.reopen();
    h.appendBatch([{ channel: 'chat:t', data: 1, history }], Date.now());
    expect(count(db, 'SELECT COUNT(*) AS n FROM publications')).toBe(0);
    await vi.waitFor(() => expect(count(db, 'SELECT COUNT(*) AS n FROM publications')).toBe(1), { timeout: 2_000 });
    expect(logged(f.log)).toEqual([]);
    // A full batch is moved at the end of the turn, without waiting for the timer.
    const many = Array.from({ length: MOVE_AT_COUNT }, (_, i) => ({ channel: `chat:m${i % 7}`, data: i, history }));
    h.appendBatch(many, Date.now());
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 0));
    expect(count(db, 'SELECT COUNT(*) AS n FROM publications')).toBe(1 + MOVE_AT_COUNT);
    h.close();
  });

  it('moves what waits before reading a channel only when some of it is for that channel', () => {
    const f = files();
    const { db, h } = f.reopen();
    const now = Date.now();
    h.appendBatch([{ channel: 'chat:w', data: 1, key: 'k', history }], now);
    // New channels, a read of another channel: what waits stays logged.
    h.appendBatch([{ channel: 'chat:x', data: 2, history }], now);
    h.appendBatch([{ channel: 'chat:y', data: 3, key: 'k', history }], now);
    expect(h.read('chat:z', 0, 10, history, now).publications).toEqual([]);
    expect(count(db, 'SELECT COUNT(*) AS n FROM publications')).toBe(0);
    expect(logged(f.log)).toHaveLength(3);
    // A read of a channel with a publication waiting sees it.
    expect(h.read('chat:x', 0, 10, history, now).publications.map((p) => p.data)).toEqual([2]);
    expect(count(db, 'SELECT COUNT(*) AS n FROM publications')).toBe(3);
    expect(logged(f.log)).toEqual([]);
    h.close();
  });

  it('refuses a batch it cannot log and keeps nothing of it', () => {
    // Writes to /dev/full fail with ENOSPC, as on a full disk.
    if (!existsSync('/dev/full')) throw new Error('this test needs /dev/full');
    const db = openDatabase(':memory:');
    open.push(db);
    const h = new SqliteHistory(db, { logFile: '/dev/full' });
    expect(() => h.appendBatch([{ channel: 'chat:f', data: 1, key: 'k', history }], Date.now())).toThrow(/ENOSPC/);
    expect(h.top('chat:f').offset).toBe(0);
    expect(h.read('chat:f', 0, 10, history, Date.now()).publications).toEqual([]);
    expect(() => h.appendBatch([{ channel: 'chat:f', data: 1, key: 'k', history }], Date.now())).toThrow(/ENOSPC/);
    expect(count(db, 'SELECT COUNT(*) AS n FROM publications')).toBe(0);
    h.close();
  });
});
