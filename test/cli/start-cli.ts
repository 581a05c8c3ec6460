import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { awaitReady } from '../child-output.js';
import { defer } from '../helpers.js';

/** The repository's root folder. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** The built CLI (`npm test` builds before running). */
export const CLI = join(ROOT, 'packages', 'server', 'dist', 'cli.js');

/** The committed `syncline` bin file, which runs the built CLI. */
export const BIN = join(ROOT, 'packages', 'server', 'bin', 'syncline.js');

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
  const { match, output } = await awaitReady(proc, /running at (http:\/\/\S+)/, 20_000, 'the CLI');
  return { url: match[1] as string, out: output, proc };
}

/** What a finished CLI run printed, and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a CLI file (default the built CLI) to completion; never throws on a non-zero exit. */
export function runCli(args: string[], options: { env?: Record<string, string>; file?: string } = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [options.file ?? CLI, ...args],
      { env, timeout: 20_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
