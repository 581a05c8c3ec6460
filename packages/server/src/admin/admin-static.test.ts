import { mkdtempSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpStatusFor } from '../http/router.js';
import { AdminStatic } from './admin-static.js';

describe('console files', () => {
  it('without a build, answers 503 `unavailable` naming the command that makes one', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'syncline-admin-dist-'));
    const files = new AdminStatic(empty);
    const err = await files.serve({} as IncomingMessage, {} as ServerResponse, '/').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unavailable', message: expect.stringContaining('`npm run build`') });
    expect(httpStatusFor('unavailable')).toBe(503);
  });
});
