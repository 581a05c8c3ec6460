import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SynclineError } from '@syncline/protocol';
import { StaticFiles } from '../http/static.js';

/**
 * Where the built console is shipped: `admin-dist/` in the server package,
 * beside `dist/`. Resolved when a console is made, not at import (importing
 * the server must work where `import.meta.url` is not a file URL, as in a
 * DOM test environment).
 */
export function adminDistDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '../../admin-dist');
}

/** Headers of every console page and asset: a strict CSP (no inline script or style), no framing. */
export const ADMIN_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

/**
 * Serves the built console under `/admin`: hashed assets cached for a year,
 * `index.html` revalidated, every page under the strict CSP. Without a
 * build it answers 503 `unavailable` naming the command that makes one.
 */
export class AdminStatic {
  readonly #dir: string;
  readonly #files: StaticFiles;
  #built = false;

  constructor(dir: string = adminDistDir()) {
    this.#dir = dir;
    this.#files = new StaticFiles(dir);
  }

  /** Serves `/admin/…` (the path after `/admin`). */
  async serve(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    this.#built ||= existsSync(join(this.#dir, 'index.html'));
    if (!this.#built) {
      throw new SynclineError(
        'unavailable',
        `The operator console is not built (${this.#dir} has no index.html): run \`npm run build\` at the repository root (or \`npm run build -w @syncline/admin\`).`,
      );
    }
    for (const [name, value] of Object.entries(ADMIN_PAGE_HEADERS)) res.setHeader(name, value);
    if (!(await this.#files.serve(req, res, rest || '/'))) {
      for (const name of Object.keys(ADMIN_PAGE_HEADERS)) res.removeHeader(name);
      throw new SynclineError('not_found', `No console file at /admin${rest}.`);
    }
  }
}
