import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SynclineClient } from '@syncline/client';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { defer, describeValue, SECRET, tempDir, token, waitFor } from './helpers.js';

/** The TypeScript blocks of the README's "In fifteen lines" section, in order. */
function readmeExample(): string[] {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const section = /^## In fifteen lines\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (!section) throw new Error('README has no "In fifteen lines" section');
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

interface ExampleHost {
  fetchMyToken(): Promise<string>;
  refetchFromMyDatabase(): void;
  console: { log(...args: unknown[]): void };
}

describe('README example', () => {
  it('is short: the server and client blocks fit in about fifteen lines each', () => {
    const blocks = readmeExample();
    expect(blocks).toHaveLength(2);
    for (const b of blocks) {
      const code = b.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//'));
      expect(code.length).toBeLessThanOrEqual(15);
    }
  });

  it('runs as written against a real server: the client connects, receives its publication, and gets an offset', async () => {
    // The README's code, with only the port, data folder and URL pointed at this test.
    const [serverCode, clientCode] = readmeExample() as [string, string];
    const all = `${serverCode}\n${clientCode}`
      .replace('port: 8787,', "port: 0, host: '127.0.0.1',")
      .replace("dataDir: './data'", `dataDir: ${JSON.stringify(tempDir())}`)
      .replace("url: 'http://localhost:8787'", 'url: server.url')
      .replace(/^(\s*)await client\.publish\(/m, '$1published = await client.publish(');
    expect(all).toContain('url: server.url');
    expect(all).toContain('published = await client.publish(');
    const lines = all.split('\n');
    const imports = lines.filter((l) => l.startsWith('import '));
    const body = lines.filter((l) => !l.startsWith('import '));
    const file = join(tempDir(), 'readme-example.ts');
    writeFileSync(
      file,
      [
        ...imports,
        'export async function run({ fetchMyToken, refetchFromMyDatabase, console }: { fetchMyToken: () => Promise<string>; refetchFromMyDatabase: () => void; console: Console }) {',
        '  let published: unknown;',
        ...body.map((l) => `  ${l}`),
        '  return { server, client, published };',
        '}',
      ].join('\n'),
    );

    process.env.SYNCLINE_SECRET = SECRET;
    defer(() => {
      delete process.env.SYNCLINE_SECRET;
    });
    const logs: unknown[][] = [];
    let refetched = 0;
    const host: ExampleHost = {
      fetchMyToken: () => token('user-1', [{ match: 'chat:*', allow: ['subscribe', 'publish', 'history'] }]),
      refetchFromMyDatabase: () => {
        refetched++;
      },
      console: { log: (...args: unknown[]) => logs.push(args) },
    };
    const mod = (await import(pathToFileURL(file).href)) as {
      run(h: ExampleHost): Promise<{ server: SynclineServer; client: SynclineClient; published: unknown }>;
    };
    const { server, client, published } = await mod.run(host);
    defer(() => server.close());
    defer(() => client.close());

    expect(published).toMatchObject({ offset: 1 });
    expect(logs).toContainEqual(['connected', expect.any(String)]);
    await waitFor(
      () => logs.some((l) => l[0] === 1),
      10_000,
      () => `wanted the publication at offset 1 logged, saw logs ${describeValue(logs)}`,
    );
    expect(logs).toContainEqual([1, 'user-1', { text: 'hello' }]);
    expect(refetched).toBe(0);
  });
});
