/**
 * Runs examples/python-backend in tests: python3 (or `PYTHON`), the backend
 * and `syncline start` as child processes, and SDK clients that sign in
 * through it. Python missing skips the suites, unless
 * SYNCLINE_REQUIRE_SERVICES=1, where it fails them.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { type ClientOptions, createClient, type SynclineClient } from '@syncline/client';
import WebSocket from 'ws';
import { awaitReady } from '../child-output.js';
import { ROOT } from '../cli/start-cli.js';
import { defer, TEST_CODEC, TEST_TRANSPORT } from '../helpers.js';

/** The Python interpreter. */
export const PYTHON = process.env.PYTHON ?? 'python3';
/** The example's folder. */
export const EXAMPLE = join(ROOT, 'examples', 'python-backend');
/** The backend's entry point. */
export const BACKEND = join(EXAMPLE, 'backend.py');
/** Where the committed config expects the backend. */
export const CONFIGURED_BACKEND = 'http://127.0.0.1:8000';

/** Whether Python runs here; throws when it is required (SYNCLINE_REQUIRE_SERVICES=1) and missing. */
export const hasPython = ((): boolean => {
  if (spawnSync(PYTHON, ['--version']).status === 0) return true;
  if (process.env.SYNCLINE_REQUIRE_SERVICES === '1') {
    throw new Error(`python3 is required (SYNCLINE_REQUIRE_SERVICES=1) but \`${PYTHON} --version\` failed.`);
  }
  console.warn(
    `examples/python-backend: skipped, \`${PYTHON} --version\` failed (install Python 3.11+ or set PYTHON).`,
  );
  return false;
})();

/** The environment of the children: none of the backend's settings or secrets from the test's own, so the defaults apply. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', SYNCLINE_LOG_LEVEL: 'warn' };
  for (const k of ['SYNCLINE_PROXY_SECRET', 'SYNCLINE_WEBHOOK_SECRET', 'ALLOWED_ORIGINS', 'PORT', 'BACKEND_DB']) {
    delete env[k];
  }
  delete env.NODE_ENV;
  delete env.SYNCLINE_DATA;
  delete env.PYTHON_BACKEND_URL;
  return { ...env, ...extra };
}

/** Long-running children of a suite (started in `beforeAll`, killed in `afterAll`). */
export class Children {
  readonly #procs: ChildProcess[] = [];

  /** Spawns a child and waits for its output to match `ready`; returns the match. */
  async start(command: string, args: string[], ready: RegExp, env = childEnv()): Promise<RegExpExecArray> {
    const proc = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#procs.push(proc);
    return (await awaitReady(proc, ready, 20_000, `${command} ${args.join(' ')}`)).match;
  }

  /** Starts backend.py on a free port with the database `db`; returns its URL. */
  async backend(db: string, env = childEnv()): Promise<string> {
    const m = await this.start(PYTHON, [BACKEND, '--port', '0', '--db', db], /listening on (http:\/\/\S+)/, env);
    return m[1] as string;
  }

  /** Starts `syncline start` with `args` (after `start`); returns its URL. */
  async syncline(args: string[], env = childEnv()): Promise<string> {
    const cli = join(ROOT, 'packages', 'server', 'dist', 'cli.js');
    const m = await this.start(process.execPath, [cli, 'start', ...args], /running at (http:\/\/\S+)/, env);
    return m[1] as string;
  }

  killAll(): void {
    for (const p of this.#procs) p.kill('SIGKILL');
  }
}

/** A client of the Syncline server at `url` that connects with `connectData` (no token): the backend decides; closed after the test. */
export function sdk(url: string, connectData: unknown): SynclineClient {
  const c = createClient({
    url,
    connectData,
    WebSocket: WebSocket as unknown as NonNullable<ClientOptions['WebSocket']>,
    transports: [TEST_TRANSPORT],
    codec: TEST_CODEC,
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
  });
  defer(() => c.close());
  return c;
}
