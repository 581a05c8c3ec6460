/**
 * Every curl example of docs/http-api.md runs as written against the server
 * `npm start` starts (its arguments, read from package.json, with port 0 and
 * a fresh data folder), with the variables the doc tells the reader to set:
 * `SYNCLINE` (the server's URL) and `KEY` (the HTTP API key it printed). Each
 * command must answer 2xx with the JSON shape the doc shows after it.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startCli } from './cli/start-cli.js';
import { codeBlocks, REPO_ROOT } from './docs/code-blocks.js';
import { curlExamples, parseShownJson, shapeProblems } from './docs/curl-examples.js';
import { defer, tempDir } from './helpers.js';

const run = promisify(execFile);
const DOC = 'docs/http-api.md';

/** The arguments `npm start` gives `syncline start`, with port 0 and `dataDir` as the data folder. */
function npmStartArgs(dataDir: string): { args: string[]; port: string } {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const command = /node packages\/server\/dist\/cli\.js start (.*)$/.exec(pkg.scripts.start)?.[1];
  if (command === undefined) throw new Error(`npm start does not run syncline start: ${pkg.scripts.start}`);
  const words = command.split(/\s+/);
  const args: string[] = [];
  let port = '';
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const value = words[i + 1] ?? '';
    if (word === '--port') port = value;
    if (word === '--data') args.push('--data', dataDir);
    // The built chat app is not needed by the API (and may not be built).
    if (word === '--static' && !existsSync(join(REPO_ROOT, value))) {
      i++;
      continue;
    }
    if (word === '--port' || word === '--data') i++;
    else args.push(word);
  }
  return { args, port };
}

describe('docs/http-api.md', () => {
  it('every curl example answers as the doc shows against npm start', async () => {
    const data = tempDir();
    const { args, port } = npmStartArgs(data);
    expect(args).toContain('--dev');
    const { url, out } = await startCli(args, { cwd: REPO_ROOT });
    const key = /HTTP API key: (\S+)/.exec(out())?.[1];
    expect(key, `wanted the CLI to print the HTTP API key, saw:\n${out()}`).toMatch(/^sk_dev_/);
    // The doc says the key is also kept in the data folder.
    expect(JSON.parse(readFileSync(join(data, 'dev-credentials.json'), 'utf8'))).toMatchObject({ apiKey: key });

    // The variables the doc tells the reader to set.
    const setup = codeBlocks(DOC).find((b) => b.lang === 'sh' && b.code.includes('export KEY='));
    expect(setup?.code).toContain(`export SYNCLINE=http://127.0.0.1:${port}\n`);
    const env = { ...process.env, SYNCLINE: url, KEY: key as string };

    // The world the doc describes: alice signed in to the chat, looking at the room `general`.
    const signIn = await fetch(`${url}/dev/token`, { method: 'POST', body: JSON.stringify({ name: 'alice' }) });
    const { token } = (await signIn.json()) as { token: string };
    const ws = WebSocket as unknown as NonNullable<Parameters<typeof createClient>[0]['WebSocket']>;
    const alice = createClient({ url, token, WebSocket: ws });
    defer(() => alice.close());
    await alice.presence('here:general').enter({ typing: false });

    const examples = curlExamples(DOC);
    expect(examples.length).toBeGreaterThanOrEqual(12);
    const problems: string[] = [];
    for (const ex of examples) {
      const { stdout } = await run('bash', ['-c', `${ex.command} -w '\\n%{http_code}'`], { env, timeout: 10_000 });
      const status = Number(stdout.slice(stdout.lastIndexOf('\n') + 1));
      const body = stdout.slice(0, stdout.lastIndexOf('\n'));
      if (status < 200 || status > 299) {
        problems.push(`${ex.where}: status ${status}: ${body}`);
        continue;
      }
      if (ex.answer === undefined) continue;
      let actual: unknown;
      try {
        actual = JSON.parse(body);
      } catch {
        problems.push(`${ex.where}: the answer is not JSON: ${body}`);
        continue;
      }
      problems.push(...shapeProblems(parseShownJson(ex.answer), actual).map((p) => `${ex.where}: ${p}`));
    }
    expect(problems, `curl examples that do not answer as shown:\n${problems.join('\n')}`).toEqual([]);
  }, 60_000);
});
