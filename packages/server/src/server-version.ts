import { readFileSync } from 'node:fs';

let version: string | undefined;

/** The version of `@syncline/server` (its package.json, next to `src/` and `dist/`), read once. */
export function serverVersion(): string {
  if (version !== undefined) return version;
  const file = new URL('../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  version = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  return version;
}
