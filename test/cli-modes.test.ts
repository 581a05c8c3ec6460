import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, startCli } from './cli/start-cli.js';
import { SECRET, tempDir } from './helpers.js';

const run = promisify(execFile);

/** Runs `syncline start` expecting it to refuse; returns its exit code and output. */
async function refusedStart(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env, SYNCLINE_LOG_LEVEL: 'warn' };
  delete base.NODE_ENV;
  delete base.SYNCLINE_DATA;
  const started = run(process.execPath, [CLI, 'start', '--port', '0', '--host', '127.0.0.1', ...args], {
    env: { ...base, ...env },
    cwd,
    timeout: 20_000,
  });
  const err = (await started.then(
    () => ({ code: 0, stdout: 'started', stderr: '' }),
    (e: unknown) => e,
  )) as { code: number; stdout: string; stderr: string };
  return { code: err.code, stdout: err.stdout, stderr: err.stderr };
}

/** Writes a config module with `auth: { secret }` and returns its path. */
function configWithSecret(dir: string, secret: string, extra = ''): string {
  const file = join(dir, 'syncline.config.mjs');
  writeFileSync(file, `export default { auth: { secret: ${JSON.stringify(secret)} }${extra} };\n`);
  return file;
}

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

describe('syncline start: production hands out nothing', () => {
  it('refuses to start without auth, by default and with NODE_ENV=production, in one line naming `auth`', async () => {
    for (const env of [{}, { NODE_ENV: 'production' }]) {
      const dir = tempDir();
      const r = await refusedStart(['--data', join(dir, 'data')], env, dir);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain('running at');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('`auth`');
      expect(lines[0]).toContain('--dev');
      // Nothing was generated either.
      expect(existsSync(join(dir, 'data', 'dev-credentials.json'))).toBe(false);
    }
  });

  it('with NODE_ENV=production and auth: no /dev/token (404), no token or API key in the banner', async () => {
    const dir = tempDir();
    const config = configWithSecret(dir, SECRET, ', apiKey: "prod-api-key-0123456789-abcdefghij"');
    const { url, out } = await startCli(['--data', join(dir, 'data'), '--config', config], {
      env: { NODE_ENV: 'production' },
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const res = await fetch(`${url}/dev/token`, { method: 'POST', body: JSON.stringify({ name: 'admin' }) });
    expect(res.status).toBe(404);
    expect(out()).toContain('Production mode');
    expect(out()).not.toMatch(/Dev token|HTTP API key|eyJ|prod-api-key/);
    expect(existsSync(join(dir, 'data', 'dev-credentials.json'))).toBe(false);
  });

  it('refuses --dev together with NODE_ENV=production', async () => {
    const dir = tempDir();
    const r = await refusedStart(['--dev', '--data', join(dir, 'data')], { NODE_ENV: 'production' }, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--dev conflicts with NODE_ENV=production');
  });

  it('refuses a shared secret under 32 bytes in production and warns about it in dev mode', async () => {
    const dir = tempDir();
    const config = configWithSecret(dir, 'short-secret-31-bytes-long-0123');
    const r = await refusedStart(['--data', join(dir, 'data'), '--config', config], {}, dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('31 bytes');
    const dev = await startCli(['--dev', '--data', join(dir, 'data'), '--config', config]);
    expect(dev.out()).toMatch(/warning.*31 bytes/);
    // 32 bytes are enough.
    const ok = configWithSecret(tempDir(), 'a-secret-of-exactly-32-bytes-012');
    expect((await startCli(['--data', join(dir, 'data2'), '--config', ok])).out()).toContain('Production mode');
  });
});

describe('syncline start: dev mode', () => {
  it('`--dev` listens on 127.0.0.1 unless --host says otherwise, and says it is dev mode', async () => {
    const dir = tempDir();
    const { url, out } = await startCli(['--dev', '--data', join(dir, 'data')], { host: null });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out()).toContain('Dev mode');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const port = new URL(url).port;
    const external = externalAddress();
    if (external !== undefined) {
      await expect(fetch(`http://${external}:${port}/healthz`)).rejects.toThrow();
    }
  });

  it('NODE_ENV=development turns dev mode on: dev token printed and served', async () => {
    const dir = tempDir();
    const { url, out } = await startCli(['--data', join(dir, 'data')], { env: { NODE_ENV: 'development' } });
    expect(out()).toContain('Dev mode');
    expect(out()).toMatch(/Dev token[^\n]*\n\s+eyJ/);
    const res = await fetch(`${url}/dev/token`, { method: 'POST', body: JSON.stringify({ name: 'Ada' }) });
    expect(res.status).toBe(200);
  });

  it('/dev/token is rate-limited per address: 429 rate_limited with Retry-After after the burst', async () => {
    const dir = tempDir();
    const { url } = await startCli(['--dev', '--data', join(dir, 'data')]);
    const ask = (): Promise<Response> =>
      fetch(`${url}/dev/token`, { method: 'POST', body: JSON.stringify({ name: 'Ada' }) });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await ask()).status);
    expect(statuses).toEqual(Array(10).fill(200));
    const limited = await ask();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await limited.json()) as { error: { code: string; retryAfterMs: number } };
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.retryAfterMs).toBeGreaterThan(0);
  });
});
