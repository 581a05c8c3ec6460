import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runCli, startCli } from './cli/start-cli.js';
import { defer, describeValue, tempDir, waitFor } from './helpers.js';

const ws = WebSocket as unknown as NonNullable<Parameters<typeof createClient>[0]['WebSocket']>;

/** A dev node started by the CLI with chat channels and a `notes` document namespace. */
async function devNode() {
  const data = tempDir();
  const config = join(data, 'syncline.config.mjs');
  writeFileSync(
    config,
    `export default {
  namespaces: { chat: { history: { size: 500, ttlMs: 3600000 }, presence: true } },
  docs: { notes: { initialState: { text: '' }, mutators: { set(tx, a) { tx.draft.text = a.text; } } } },
};\n`,
  );
  const node = await startCli(['--dev', '--data', data, '--config', config]);
  const token = /Dev token[^\n]*\n\s+(\S+)/.exec(node.out())?.[1] as string;
  const key = /HTTP API key: (\S+)/.exec(node.out())?.[1] as string;
  /** Runs an inspect command against this node, the key read from its data folder. */
  const cli = (...args: string[]) => runCli([...args, '--url', node.url, '--data', data]);
  return { ...node, data, token, key, cli };
}

function connect(url: string, token: string) {
  const c = createClient({ url, token, WebSocket: ws });
  defer(() => c.close());
  return c;
}

// Every step spawns a CLI process (about 0.5-1 s each on a quiet machine): these tests get a minute.
describe('syncline inspect commands over the HTTP API', { timeout: 60_000 }, () => {
  it('publish, history and channels print tables, and the API JSON with --json', async () => {
    const node = await devNode();
    const pub = await node.cli('publish', 'chat:lobby', '{"text":"hello"}');
    expect(pub).toMatchObject({ code: 0, stderr: '' });
    expect(pub.stdout).toMatch(/^Published to chat:lobby at offset 1 \(epoch \S+\)\.\n$/);
    const once = await node.cli('publish', 'chat:lobby', '{"text":"again"}', '--idempotency-key', 'k-1', '--json');
    expect(JSON.parse(once.stdout)).toMatchObject({ channel: 'chat:lobby', offset: 2, duplicate: false });
    const twice = await node.cli('publish', 'chat:lobby', '{"text":"again"}', '--idempotency-key', 'k-1');
    expect(twice.stdout).toContain('Already published to chat:lobby at offset 2');
    // Terminal escapes in data are shown escaped, never sent to the terminal.
    await node.cli('publish', 'chat:lobby', '{"text":"\\u001b[2Jred\\u009b"}');

    const text = await node.cli('history', 'chat:lobby');
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^chat:lobby: offset 3, oldest retained 1, epoch \S+$/);
    expect(lines[1]).toMatch(/^OFFSET\s+TIME\s+USER\s+DATA$/);
    expect(lines[2]).toMatch(/^1\s+\d{4}-\d\d-\d\dT\S+Z\s+-\s+\{"text":"hello"\}$/);
    expect(lines[4]).toContain('\\u001b[2Jred\\u009b');
    expect([...text.stdout].filter((ch) => ch === '\u001b' || ch === '\u009b')).toEqual([]);

    const page = await node.cli('history', 'chat:lobby', '--limit', '1');
    expect(page.stdout).toContain('(more after offset 1: --since 1)');
    const next = await node.cli('history', 'chat:lobby', '--since', '1', '--limit', '1', '--json');
    const body = JSON.parse(next.stdout) as { publications: { offset: number; data: unknown }[]; next?: number };
    expect(body.publications).toEqual([expect.objectContaining({ offset: 2, data: { text: 'again' } })]);
    expect(body.next).toBe(2);
    for (const bad of ['0', '1001', 'ten']) {
      const r = await node.cli('history', 'chat:lobby', '--limit', bad);
      expect({ bad, code: r.code }).toEqual({ bad, code: 2 });
    }

    expect((await node.cli('channels')).stdout).toBe('No channel has subscribers or presence.\n');
    const c = connect(node.url, node.token);
    await c.subscribe('chat:lobby', {}).ready;
    const channels = await node.cli('channels');
    expect(channels.stdout).toMatch(/^CHANNEL\s+SUBSCRIBERS\s+PRESENT\nchat:lobby\s+1\s+0\n$/);
    expect(JSON.parse((await node.cli('channels', '--prefix', 'chat:', '--json')).stdout)).toEqual({
      channels: [{ channel: 'chat:lobby', subscribers: 1, present: 0 }],
    });
  });

  it('presence lists one row per connection; doc prints version and state', async () => {
    const node = await devNode();
    const c = connect(node.url, node.token);
    await c.presence('chat:room').enter({ typing: true });
    const text = await node.cli('presence', 'chat:room');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^USER\s+CLIENT\s+ENTERED\s+STATE\ndev\s+\S+\s+\S+Z\s+\{"typing":true\}\n$/);
    const json = JSON.parse((await node.cli('presence', 'chat:room', '--json')).stdout) as {
      members: { user: string; entries: { state: unknown }[] }[];
    };
    expect(json.members).toEqual([
      expect.objectContaining({ user: 'dev', entries: [expect.objectContaining({ state: { typing: true } })] }),
    ]);
    expect((await node.cli('presence', 'chat:empty')).stdout).toBe('Nobody is present in chat:empty.\n');

    const mutate = await fetch(`${node.url}/v1/docs/notes:1/mutate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'set', args: { text: 'first line' } }),
    });
    expect(mutate.status).toBe(200);
    const doc = await node.cli('doc', 'notes:1');
    expect(doc).toEqual({ code: 0, stdout: 'notes:1: version 1\n{\n  "text": "first line"\n}\n', stderr: '' });
    expect(JSON.parse((await node.cli('doc', 'notes:1', '--json')).stdout)).toEqual({
      doc: 'notes:1',
      version: 1,
      state: { text: 'first line' },
      schemaVersion: 1,
      clients: 0,
    });
  });

  it('revoke closes the user connections and --lift lifts it', async () => {
    const node = await devNode();
    const res = await fetch(`${node.url}/dev/token`, { method: 'POST', body: JSON.stringify({ name: 'mallory' }) });
    const { token } = (await res.json()) as { token: string };
    const c = connect(node.url, token);
    await c.subscribe('chat:lobby', {}).ready;
    const r = await node.cli('revoke', 'mallory', '--reason', 'spam');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Revoked mallory: tokens issued before \S+Z are refused; 1 connection closed\.\n$/);
    await waitFor(
      () => c.state !== 'connected',
      5_000,
      () => `wanted mallory's client to lose its connection, saw ${describeValue(c.state)}`,
    );
    expect(JSON.parse((await node.cli('revoke', 'mallory', '--lift', '--json')).stdout)).toEqual({
      user: 'mallory',
      lifted: true,
    });
    expect((await node.cli('revoke', 'mallory', '--lift')).stdout).toBe('mallory was not revoked.\n');
  });

  it('errors print the API code and message and exit non-zero; the key comes from flags, env or the data folder', async () => {
    const node = await devNode();
    const unknown = await node.cli('history', 'nope:x');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^syncline: unknown_namespace \(HTTP 404\): .*nope/);
    expect((await node.cli('doc', 'nope:1')).stderr).toContain('unknown_namespace (HTTP 404)');

    const wrong = await runCli(['channels', '--url', node.url, '--key', 'sk_wrong']);
    expect(wrong).toEqual({ code: 1, stdout: '', stderr: 'syncline: unauthorized (HTTP 401): Wrong API key.\n' });
    const envWrong = await runCli(['channels', '--url', node.url], { env: { SYNCLINE_API_KEY: 'sk_wrong' } });
    expect(envWrong.stderr).toContain('unauthorized (HTTP 401)');
    const envRight = await runCli(['channels', '--json'], {
      env: { SYNCLINE_URL: node.url, SYNCLINE_API_KEY: node.key },
    });
    expect(envRight).toEqual({ code: 0, stdout: '{"channels":[]}\n', stderr: '' });

    const noKey = await runCli(['channels', '--url', node.url, '--data', tempDir()]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('no API key');
    const down = await runCli(['channels', '--url', 'http://127.0.0.1:9', '--key', 'k']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^syncline: unreachable: Cannot reach http:\/\/127\.0\.0\.1:9/);
    const badJson = await node.cli('publish', 'chat:lobby', '{text}');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('not JSON');
    const missing = await node.cli('history');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('history takes CHANNEL');
  });
});
