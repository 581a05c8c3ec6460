import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { SqliteDatabase } from './sqlite.js';

/** How often the checkpoint thread copies the WAL into the database file, ms. */
export const WAL_CHECKPOINT_INTERVAL_MS = 250;

/**
 * WAL pages past which the server's own connection checkpoints after all (a
 * backstop: the thread is gone or cannot keep up); SQLite's default is 1,000.
 */
export const WAL_BACKSTOP_PAGES = 100_000;

/**
 * The checkpoint thread (CommonJS, run from source so that it works the same
 * built or not): its own connection to the database file copies the WAL's
 * committed pages into the main file with PASSIVE checkpoints every
 * `intervalMs` until told to stop. Its automatic checkpoints are off (it never
 * writes anyway).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.run();
  } catch (err) {
    parentPort.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
}, workerData.intervalMs);
parentPort.on('message', (msg) => {
  if (msg !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints an embedded database's WAL on a worker thread. SQLite's
 * automatic checkpoint runs inside the commit that crosses 1,000 WAL pages,
 * on the server's event loop: it copies those pages into the database file
 * and fsyncs it, which stalled the loop for tens (on a busy disk, hundreds)
 * of milliseconds every few thousand publications or document mutations. The
 * thread's PASSIVE checkpoints never block the server's writes; the server's
 * connection only checkpoints itself past `WAL_BACKSTOP_PAGES`.
 *
 * Durability is unchanged: a commit is in the WAL (durable against a crash of
 * the process) when it returns, whoever checkpoints it later.
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #db: SqliteDatabase;
  #stopped = false;

  constructor(db: SqliteDatabase, file: string, logger: Logger) {
    this.#db = db;
    db.pragma(`wal_autocheckpoint = ${WAL_BACKSTOP_PAGES}`);
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, sqlite, intervalMs: WAL_CHECKPOINT_INTERVAL_MS },
    });
    this.#worker.unref();
    this.#worker.on('message', (msg: { error?: string }) => {
      if (msg.error !== undefined) logger.warn({ error: msg.error }, 'WAL checkpoint failed');
    });
    this.#worker.on('error', (err) => {
      logger.warn({ err }, 'WAL checkpoint thread failed; the server checkpoints itself');
      this.#fallBack();
    });
    this.#worker.on('exit', () => this.#fallBack());
  }

  /** Back to SQLite's own automatic checkpoints on the server's connection. */
  #fallBack(): void {
    if (this.#stopped || !this.#db.open) return;
    this.#stopped = true;
    this.#db.pragma('wal_autocheckpoint = 1000');
  }

  /** Stops the thread (its connection closes); the server's connection checkpoints what is left when it closes. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    // Held until the thread is gone: with nothing else to do, the process would otherwise end
    // here, and whoever awaits `close()` would never go on (the database would stay open).
    this.#worker.ref();
    this.#worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
    await this.#worker.terminate();
  }
}
