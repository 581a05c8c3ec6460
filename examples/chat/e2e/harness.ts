/**
 * End-to-end harness: builds the chat when its bundle is missing or older
 * than its sources, starts the real `syncline start` CLI with the chat's
 * config on a free port, and launches the machine's Chromium through
 * playwright-core.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../../..');
/** The chat example folder. */
export const CHAT = resolve(import.meta.dirname, '..');
/** Where screenshots go (ignored by git). */
export const ARTIFACTS = join(ROOT, 'test-results', 'chat-e2e');
/** The Debian Chromium. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Builds the server CLI and the chat bundle when they are missing or stale. */
export function ensureBuilt(): void {
  if (
    !existsSync(join(ROOT, 'packages/server/dist/cli.js')) ||
    !existsSync(join(ROOT, 'packages/client/dist/index.js'))
  ) {
    execFileSync('npx', ['tsc', '-b'], { cwd: ROOT, stdio: 'inherit' });
  }
  const bundle = join(CHAT, 'dist/index.html');
  const sources = Math.max(
    newestMtime(join(CHAT, 'src')),
    newestMtime(join(CHAT, 'index.html')),
    newestMtime(join(ROOT, 'packages/client/dist')),
    newestMtime(join(ROOT, 'packages/react/dist')),
  );
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) {
    execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: CHAT, stdio: 'inherit' });
  }
}

/** A running chat server. */
export interface ChatServer {
  readonly url: string;
  /** The HTTP API key the CLI printed (a dev key kept in the data folder). */
  readonly apiKey: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `syncline start` with the chat config and bundle, on a free port and a fresh data folder. */
export async function startChatServer(): Promise<ChatServer> {
  const data = mkdtempSync(join(tmpdir(), 'syncline-chat-e2e-'));
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'packages/server/dist/cli.js'),
      'start',
      '--dev',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--config',
      join(CHAT, 'syncline.config.ts'),
      '--static',
      join(CHAT, 'dist'),
      '--data',
      data,
    ],
    { cwd: ROOT, env: { ...process.env, SYNCLINE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const { url, apiKey } = await new Promise<{ url: string; apiKey: string }>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`The chat server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /running at (http:\/\/\S+)/.exec(output);
      const key = /HTTP API key: (\S+)/.exec(output);
      if (m?.[1] && key?.[1]) {
        clearTimeout(timer);
        resolveUrl({ url: m[1].replace('localhost', '127.0.0.1'), apiKey: key[1] });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The chat server exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    apiKey,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** True when the machine has Chromium. */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM);
}

/** Launches headless Chromium. */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}
