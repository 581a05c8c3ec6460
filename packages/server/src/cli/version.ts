import { readFileSync } from 'node:fs';

/** The version of `@syncline/server` this CLI belongs to (its package.json, next to `dist/`). */
export function cliVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
