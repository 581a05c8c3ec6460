import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

describe('server.close() in a script', () => {
  it('settles after publications, with nothing else keeping the process alive, and leaves the log empty', () => {
    const dir = tempDir();
    const root = join(import.meta.dirname, '..');
    const logModule = pathToFileURL(join(root, 'packages/server/dist/storage/publication-log.js')).href;
    const db = join(dir, 'syncline.db');
    // A script that publishes, closes and goes on: it must reach its last line.
    const script = `
      import { createServer } from '@syncline/server';
      import { PublicationLog } from ${JSON.stringify(logModule)};
      const server = createServer({
        port: 0,
        host: '127.0.0.1',
        database: ${JSON.stringify(db)},
        auth: { secret: 'x'.repeat(32) },
        namespaces: { chat: { history: { size: 10, ttlMs: 60000 } } },
      });
      await server.listen();
      for (let i = 0; i < 3; i++) await server.publish('chat:a', { n: i });
      await server.close();
      const log = new PublicationLog(${JSON.stringify(`${db}-publog`)}, 'write');
      console.log(JSON.stringify({ closed: true, logged: log.read().records.length }));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}')).toEqual({ closed: true, logged: 0 });
  });
});
