import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { defer, waitFor } from '../helpers.js';

/** The built CLI (`npm test` builds before running). */
export const CLI = join(import.meta.dirname, '..', '..', 'packages', 'server', 'dist', 'cli.js');

/** Options of `startCli`. */
export interface StartCliOptions {
  /** Working folder of the process. */
  readonly cwd?: string;
  /** Environment on top of the test's (`NODE_ENV` is removed unless given here). */
  readonly env?: Record<string, string>;
  /** Bind address (default `--host 127.0.0.1`; `null` passes no `--host`). */
  readonly host?: string | null;
}

/** A running `syncline start`. */
export interface StartedCli {
  readonly url: string;
  /** stdout and stderr so far. */
  out(): string;
  readonly proc: ChildProcess;
}

/** Starts `syncline start --port 0 …` and returns its URL and output once it prints "running at"; killed after the test. */
export async function startCli(args: string[], options: StartCliOptions = {}): Promise<StartedCli> {
  const env: NodeJS.ProcessEnv = { ...process.env, SYNCLINE_LOG_LEVEL: 'warn' };
  delete env.SYNCLINE_DATA;
  delete env.NODE_ENV;
  Object.assign(env, options.env);
  const host =
    options.host === undefined ? ['--host', '127.0.0.1'] : options.host === null ? [] : ['--host', options.host];
  const proc = spawn(process.execPath, [CLI, 'start', '--port', '0', ...host, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  defer(() => {
    proc.kill('SIGKILL');
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await waitFor(
    () => /running at (http:\/\/\S+)/.test(out) || proc.exitCode !== null,
    20_000,
    () => `wanted the CLI to say "running at", saw output:\n${out.slice(-2_000)}`,
  );
  const m = /running at (http:\/\/\S+)/.exec(out);
  if (!m) throw new Error(`CLI did not start:\n${out}`);
  return { url: m[1] as string, out: () => out, proc };
}
