/** A system under test, running in its own process. */
export interface BenchServer {
  /** Base URL clients connect to (`ws://127.0.0.1:port…`). */
  readonly url: string;
  /** Open connections right now. */
  connections(): number;
  close(): Promise<void>;
}

/** Options every peer understands. */
export interface BenchServerOptions {
  /** Keep missed publications for reconnecting clients (Socket.IO connection state recovery). */
  readonly recovery: boolean;
  /** Folder for durable data (Syncline's SQLite file). */
  readonly dataDir: string;
  /** Sends `publication` webhooks of the `bench` namespace there (Syncline only; the webhook scenario). */
  readonly webhookUrl?: string | undefined;
  /** Turns the operator console on with `BENCH_ADMIN_KEY` (Syncline only; the console-impact scenario). */
  readonly admin?: boolean | undefined;
}

/** Signing secret of the benchmark's webhooks. */
export const BENCH_WEBHOOK_SECRET = 'syncline-bench-webhook-secret';

/** Shared HMAC secret of the benchmark's Syncline tokens. */
export const BENCH_SECRET = 'syncline-bench-secret-not-for-production';
/** Publications each channel keeps for recovery (all peers). */
export const BENCH_HISTORY_SIZE = 1000;

/** HTTP API key of the benchmark's Syncline server (the console scenario). */
export const BENCH_API_KEY = 'syncline-bench-api-key-not-for-production';

/** Admin key of the benchmark's Syncline server when a console is measured (at least 32 bytes). */
export const BENCH_ADMIN_KEY = 'syncline-bench-admin-key-not-for-production-0123456789';
