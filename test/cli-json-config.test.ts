import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClientOptions, createClient, type SynclineError } from '@syncline/client';
import { CONFIG_SCHEMA_FILE, configJsonSchema, parseConfigFile, signToken } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ROOT, runCli, startCli } from './cli/start-cli.js';
import { defer, tempDir } from './helpers.js';

const SECRET = 'json-config-secret-0123456789-abcdefghij';

describe('JSON config (syncline start --config file.json)', () => {
  it('publishes a JSON Schema generated from the same definitions the server validates with', () => {
    const committed = JSON.parse(readFileSync(join(ROOT, 'packages', 'server', CONFIG_SCHEMA_FILE), 'utf8')) as unknown;
    // After changing packages/server/src/config-file.ts: `npm run config-schema`.
    expect(committed).toEqual(configJsonSchema());
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', 'server', 'package.json'), 'utf8')) as {
      files: string[];
      exports: Record<string, unknown>;
    };
    expect(pkg.files).toContain(CONFIG_SCHEMA_FILE);
    expect(pkg.exports[`./${CONFIG_SCHEMA_FILE}`]).toBe(`./${CONFIG_SCHEMA_FILE}`);
  });

  it('starts a production server from a JSON file: auth, namespaces and limits apply', async () => {
    const dir = tempDir();
    const file = join(dir, 'syncline.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        $schema: './node_modules/@syncline/server/syncline.config.schema.json',
        auth: { secret: SECRET },
        namespaces: { news: { history: { size: 3 } }, room: { presence: true } },
        limits: { maxChannelsPerConnection: 2 },
        app: { version: '1.2.0' },
      }),
    );
    const { url } = await startCli(['--data', dir, '--config', file]);
    const c = createClient({
      url,
      token: await signToken(SECRET, { sub: 'ada', caps: [{ match: '*', allow: ['*'] }] }),
      WebSocket: WebSocket as unknown as NonNullable<ClientOptions['WebSocket']>,
    });
    defer(() => c.close());
    for (let i = 1; i <= 5; i++) await c.publish('news:a', { i });
    expect((await c.history('news:a')).publications.map((p) => p.offset)).toEqual([3, 4, 5]);
    await c.subscribe('news:a').ready;
    await c.subscribe('news:b').ready;
    await expect(c.subscribe('news:c').ready).rejects.toMatchObject({ code: 'limit_exceeded' });
    await expect(c.publish('chat:a', 1)).rejects.toMatchObject({
      code: 'unknown_namespace',
    } satisfies Partial<SynclineError>);
  });

  it('refuses a file with a typo, a wrong type or broken JSON, naming the file, the path and the problem', async () => {
    const dir = tempDir();
    const cases: Array<[string, RegExp]> = [
      [JSON.stringify({ auth: { secret: SECRET }, namspaces: {} }), /namspaces: Invalid key/],
      [
        JSON.stringify({ auth: { secret: SECRET }, limits: { publishBurst: 'many' } }),
        /limits\.publishBurst: Invalid type/,
      ],
      [
        JSON.stringify({ auth: { secret: SECRET }, namespaces: { a: { allowPublish: 'everyone' } } }),
        /namespaces\.a\.allowPublish/,
      ],
      ['{ "auth": ', /is not valid JSON/],
    ];
    for (const [i, [text, want]] of cases.entries()) {
      const file = join(dir, `bad-${i}.json`);
      writeFileSync(file, text);
      expect(() => parseConfigFile(text, file)).toThrow(want);
      const run = await runCli(['start', '--port', '0', '--host', '127.0.0.1', '--data', dir, '--config', file]);
      expect(run.code, run.stderr).not.toBe(0);
      expect(run.stderr + run.stdout).toMatch(want);
    }
  });
});
