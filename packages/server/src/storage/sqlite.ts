import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** An open SQLite database (better-sqlite3). */
export type SqliteDatabase = Database.Database;

/**
 * Opens (creating if needed) the embedded database in WAL mode. `:memory:`
 * gives a throwaway database.
 */
export function openDatabase(file: string): SqliteDatabase {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  return db;
}

/** Applies a named migration once (idempotent across restarts). */
export function migrate(db: SqliteDatabase, name: string, sql: string): void {
  const done = db.prepare('SELECT 1 FROM schema_migrations WHERE name = ?').get(name);
  if (done) return;
  db.transaction(() => {
    db.exec(sql);
    db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(name, Date.now());
  })();
}
