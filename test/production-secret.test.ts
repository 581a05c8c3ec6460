import { createServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { defer } from './helpers.js';

describe('shared secrets in production', () => {
  it('createServer refuses a secret under 32 bytes unless dev is set, naming the problem', async () => {
    expect(() => createServer({ port: 0, host: '127.0.0.1', auth: { secret: 'too-short-secret' } })).toThrow(
      /production: the `auth` secret is 16 bytes; use at least 32/,
    );
    expect(() => createServer({ port: 0, host: '127.0.0.1', auth: { secret: new Uint8Array(31) } })).toThrow(
      /31 bytes/,
    );
    const dev = createServer({ port: 0, host: '127.0.0.1', auth: { secret: 'too-short-secret' }, dev: true });
    defer(() => dev.close());
    const ok = createServer({ port: 0, host: '127.0.0.1', auth: { secret: 'x'.repeat(32) } });
    defer(() => ok.close());
    await ok.listen();
    expect(ok.port).toBeGreaterThan(0);
  });
});
