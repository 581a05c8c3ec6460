import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient, type ReceivedPublication } from '@syncline/client';
import { createTokenVerifier } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BIN, CLI, ROOT, runCli, startCli } from './cli/start-cli.js';
import { defer, describeValue, tempDir, waitFor, waitForValue } from './helpers.js';

const run = promisify(execFile);

describe('syncline CLI', () => {
  it('is built (npm test builds before running)', () => {
    expect(existsSync(CLI)).toBe(true);
  });

  it('`token` prints only a token signed with the data folder dev secret', async () => {
    const data = tempDir();
    const { stdout } = await run(process.execPath, [
      CLI,
      'token',
      '--data',
      data,
      '--sub',
      'user-1',
      '--allow',
      'chat:*',
      '--allow',
      'news:*=subscribe,history',
      '--ttl',
      '2h',
    ]);
    const tok = stdout.trim();
    expect(tok.split('.')).toHaveLength(3);
    const creds = JSON.parse(
      await import('node:fs/promises').then((fs) => fs.readFile(join(data, 'dev-credentials.json'), 'utf8')),
    ) as { secret: string };
    const principal = await createTokenVerifier({ secret: creds.secret }).verify(tok);
    expect(principal.user).toBe('user-1');
    expect(principal.can.allows('publish', 'chat:a')).toBe(true);
    expect(principal.can.allows('subscribe', 'news:x')).toBe(true);
    expect(principal.can.allows('publish', 'news:x')).toBe(false);
    expect((principal.expiresAt ?? 0) - Date.now()).toBeGreaterThan(7_000_000);
  });

  it('`token --secret` (or SYNCLINE_SECRET) signs for a server whose config sets its own auth.secret', async () => {
    const dir = tempDir();
    const secret = 'configured-secret-0123456789-abcdefghij';
    const config = join(dir, 'syncline.config.ts');
    writeFileSync(
      config,
      `export default { auth: { secret: ${JSON.stringify(secret)} }, namespaces: { chat: {} } };\n`,
    );
    const { url } = await startCli(['--data', dir, '--config', config]);
    const sign = async (args: string[], env: Record<string, string> = {}): Promise<string> => {
      const noSecret = { ...process.env };
      delete noSecret.SYNCLINE_SECRET;
      const { stdout } = await run(process.execPath, [CLI, 'token', '--data', dir, '--sub', 'ada', ...args], {
        env: { ...noSecret, ...env },
      });
      return stdout.trim();
    };
    const connects = async (tok: string): Promise<string> => {
      const ws = WebSocket as unknown as NonNullable<Parameters<typeof createClient>[0]['WebSocket']>;
      const c = createClient({ url, token: tok, WebSocket: ws });
      defer(() => c.close());
      await waitFor(
        () => c.state === 'connected' || c.lastChange?.reason === 'unauthorized',
        10_000,
        () => `wanted the client connected or refused, saw ${describeValue(c.lastChange)}`,
      );
      return c.lastChange?.reason === 'unauthorized' ? 'unauthorized' : c.state;
    };
    expect(await connects(await sign(['--secret', secret, '--allow', 'chat:*']))).toBe('connected');
    expect(await connects(await sign(['--allow', 'chat:*'], { SYNCLINE_SECRET: secret }))).toBe('connected');
    // Neither: the dev secret of the data folder, which this server does not take.
    expect(await connects(await sign(['--allow', 'chat:*']))).toBe('unauthorized');
  });

  it('`token` rejects bad arguments with usage', async () => {
    await expect(run(process.execPath, [CLI, 'token', '--allow', 'x'])).rejects.toMatchObject({ code: 2 });
    await expect(run(process.execPath, [CLI, 'token', '--sub', 'a', '--ttl', 'soon'])).rejects.toMatchObject({
      code: 2,
    });
    await expect(run(process.execPath, [CLI, 'bogus'])).rejects.toMatchObject({ code: 2 });
  });

  it('`start --dev` serves health, the dev token route and accepts the printed dev token', async () => {
    const data = tempDir();
    const { url, out } = await startCli(['--dev', '--data', data]);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const devToken = /Dev token[^\n]*\n\s+(\S+)/.exec(out())?.[1];
    expect(devToken).toBeTruthy();
    const res = await fetch(`${url}/dev/token`, { method: 'POST', body: JSON.stringify({ name: 'Ada' }) });
    expect(res.status).toBe(200);
    const { token: adaToken, user } = (await res.json()) as { token: string; user: string };
    expect(user).toBe('Ada');
    const bad = await fetch(`${url}/dev/token`, { method: 'POST', body: '{"name":"<script>"}' });
    expect(bad.status).toBe(400);

    const ws = WebSocket as unknown as NonNullable<Parameters<typeof createClient>[0]['WebSocket']>;
    const a = createClient({ url, token: devToken as string, WebSocket: ws });
    const b = createClient({ url, token: adaToken, WebSocket: ws });
    defer(() => a.close());
    defer(() => b.close());
    const got: ReceivedPublication[] = [];
    await a.subscribe('chat:lobby', { onPublication: (p) => got.push(p) }).ready;
    await b.publish('chat:lobby', { text: 'hello' });
    await waitForValue(() => got.map((p) => p.data), [{ text: 'hello' }], 5_000, 'publication data');
    expect(got[0]?.user).toBe('Ada');
  });

  it('`start --dev` without --data keeps its data in ./data and prints the URL and a working dev token', async () => {
    const cwd = tempDir();
    const { url, out } = await startCli(['--dev'], { cwd });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out()).toContain(`(data: ${join(cwd, 'data')}`);
    const devToken = /Dev token[^\n]*\n\s+(\S+)/.exec(out())?.[1] as string;
    const creds = JSON.parse(readFileSync(join(cwd, 'data', 'dev-credentials.json'), 'utf8')) as { secret: string };
    expect((await createTokenVerifier({ secret: creds.secret }).verify(devToken)).user).toBe('dev');
    const ws = WebSocket as unknown as NonNullable<Parameters<typeof createClient>[0]['WebSocket']>;
    const c = createClient({ url, token: devToken, WebSocket: ws });
    defer(() => c.close());
    expect((await c.publish('chat:here', { n: 1 })).offset).toBe(1);
    // The history database lives in that folder too.
    expect(readdirSync(join(cwd, 'data')).some((f) => /\.(db|sqlite)$/.test(f))).toBe(true);
  });

  it('`start` keeps history across a restart on the same data folder', async () => {
    const data = tempDir();
    const first = await startCli(['--dev', '--data', data]);
    const tok = /Dev token[^\n]*\n\s+(\S+)/.exec(first.out())?.[1] as string;
    const ws = WebSocket as unknown as NonNullable<Parameters<typeof createClient>[0]['WebSocket']>;
    const c = createClient({ url: first.url, token: tok, WebSocket: ws });
    await c.publish('chat:keep', { n: 1 });
    await c.publish('chat:keep', { n: 2 });
    c.close();
    first.proc.kill('SIGTERM');
    await waitFor(
      () => first.proc.exitCode !== null,
      10_000,
      () => `wanted the CLI to exit after SIGTERM, saw it still running; its output:\n${first.out().slice(-2_000)}`,
    );
    const second = await startCli(['--dev', '--data', data]);
    const c2 = createClient({ url: second.url, token: tok, WebSocket: ws });
    defer(() => c2.close());
    const h = await c2.history('chat:keep');
    expect(h.publications.map((p) => p.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await c2.publish('chat:keep', { n: 3 })).offset).toBe(3);
  });

  it('`start` loads a TypeScript config file', async () => {
    const dir = tempDir();
    const file = join(dir, 'syncline.config.ts');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(
        file,
        'const ttl: number = 60_000;\nexport default { namespaces: { rooms: { history: { size: 5, ttlMs: ttl } } }, maxFrameBytes: 2048 };\n',
      ),
    );
    const { url, out } = await startCli(['--dev', '--data', dir, '--config', file]);
    const tok = /Dev token[^\n]*\n\s+(\S+)/.exec(out())?.[1] as string;
    const ws = WebSocket as unknown as NonNullable<Parameters<typeof createClient>[0]['WebSocket']>;
    const c = createClient({ url, token: tok, WebSocket: ws });
    defer(() => c.close());
    for (let i = 1; i <= 8; i++) await c.publish('rooms:a', { i });
    const h = await c.history('rooms:a');
    expect(h.publications.map((p) => p.offset)).toEqual([4, 5, 6, 7, 8]);
    await expect(c.publish('chat:a', {})).rejects.toMatchObject({ code: 'unknown_namespace' });
  });
});

describe('syncline CLI: help, version, the bin file, the banner', () => {
  const version = (
    JSON.parse(readFileSync(join(ROOT, 'packages', 'server', 'package.json'), 'utf8')) as { version: string }
  ).version;

  it('prints usage for help, --help and -h (also after a command), and exits 0', async () => {
    for (const args of [
      ['--help'],
      ['-h'],
      ['help'],
      [],
      ['start', '--help'],
      ['token', '-h'],
      ['history', '--help'],
    ]) {
      const r = await runCli(args);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(r.stdout).toContain('Usage:');
      expect(r.stdout).toContain('syncline history CHANNEL');
    }
  });

  it('prints the version for --version, -v and version, and exits 0', async () => {
    for (const args of [['--version'], ['-v'], ['version']]) {
      expect(await runCli(args)).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('exits 2 with the usage on an unknown option', async () => {
    const r = await runCli(['start', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--bogus'");
    expect(r.stderr).toContain('Usage:');
  });

  it('the committed bin file runs the built CLI, from the package and from node_modules/.bin', async () => {
    expect(await runCli(['--version'], { file: BIN })).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const linked = join(ROOT, 'node_modules', '.bin', 'syncline');
    expect(existsSync(linked)).toBe(true);
    expect(realpathSync(linked)).toBe(realpathSync(BIN));
    const { stdout } = await run(linked, ['--version']);
    expect(stdout).toBe(`${version}\n`);
  });

  it('the bin file says to build first when the CLI is not built', async () => {
    // The same file in a package folder without dist/.
    const pkg = tempDir();
    mkdirSync(join(pkg, 'bin'));
    copyFileSync(BIN, join(pkg, 'bin', 'syncline.js'));
    writeFileSync(join(pkg, 'package.json'), '{"type":"module"}\n');
    const r = await runCli(['--version'], { file: join(pkg, 'bin', 'syncline.js') });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('run `npm run build` first');
  });

  it('the start banner says what is served: the static folder, or no web UI', async () => {
    const plain = await startCli(['--dev', '--data', tempDir()]);
    expect(plain.out()).toContain('No web UI is served (--static DIR serves one)');
    expect(plain.out()).not.toContain('chat between them');
    const site = tempDir();
    writeFileSync(join(site, 'index.html'), '<!doctype html><title>x</title>');
    const served = await startCli(['--dev', '--data', tempDir(), '--static', site]);
    expect(served.out()).toContain(`Serving the web app in ${site} at ${served.url}/`);
    expect(served.out()).not.toContain('chat between them');
    const empty = tempDir();
    const unbuilt = await startCli(['--dev', '--data', tempDir(), '--static', empty]);
    expect(unbuilt.out()).toContain(`Serving the web app in ${empty} (it has no index.html yet: build the app first)`);
  });
});
