import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SynclineConfig } from '../config.js';
import { parseConfigFile } from '../config-file.js';

/**
 * Loads a config. `.json` files are parsed and validated against the JSON
 * config schema (`config-file.ts`); `.js`/`.mjs` modules are imported as they
 * are; `.ts` files are bundled with esbuild first (their npm imports stay
 * external).
 */
export async function loadConfig(file: string): Promise<SynclineConfig> {
  const path = resolve(file);
  const ext = extname(path);
  if (ext === '.json') return parseConfigFile(await readFile(path, 'utf8'), file);
  let url = pathToFileURL(path).href;
  let temp: string | undefined;
  if (ext === '.ts' || ext === '.mts') {
    const { build } = await import('esbuild');
    temp = join(dirname(path), `.syncline.config.${randomBytes(4).toString('hex')}.mjs`);
    await build({
      entryPoints: [path],
      outfile: temp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'error',
    });
    url = pathToFileURL(temp).href;
  }
  try {
    const mod = (await import(url)) as { default?: SynclineConfig; config?: SynclineConfig };
    const config = mod.default ?? mod.config;
    if (!config || typeof config !== 'object') {
      throw new Error(`${file} must export a config object as default (use defineConfig).`);
    }
    return config;
  } finally {
    if (temp) await rm(temp, { force: true });
  }
}
