import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './sqlite.js';
import { WAL_BACKSTOP_PAGES, WalCheckpointer } from './wal-checkpointer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fresh(): { file: string; db: ReturnType<typeof openDatabase> } {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-wal-'));
  dirs.push(dir);
  const file = join(dir, 'db.sqlite');
  return { file, db: openDatabase(file) };
}

describe('WalCheckpointer', () => {
  it('copies committed pages into the database file from its thread, without the writer checkpointing', async () => {
    const { file, db } = fresh();
    const cp = new WalCheckpointer(db, file, pino({ level: 'silent' }));
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(WAL_BACKSTOP_PAGES);
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const before = statSync(file).size;
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    // About 2 MB in 200 commits: far below the writer's own checkpoint threshold.
    for (let i = 0; i < 200; i++) db.transaction(() => insert.run('x'.repeat(10_000)))();
    await expect.poll(() => statSync(file).size, { timeout: 10_000 }).toBeGreaterThan(before + 1_500_000);
    await cp.stop();
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 200 });
    db.close();
  });

  it('gives the checkpoints back to the writer when its thread fails', async () => {
    const { file, db } = fresh();
    // The thread cannot open this file: it fails at once.
    const cp = new WalCheckpointer(db, join(file, 'missing', 'db.sqlite'), pino({ level: 'silent' }));
    await expect.poll(() => db.pragma('wal_autocheckpoint', { simple: true }), { timeout: 10_000 }).toBe(1000);
    await cp.stop();
    db.close();
  });
});
