import type { ServerOptions } from './server.js';

/**
 * What a `syncline.config.ts` (or `.js`) module exports as default: server
 * options minus what the CLI sets itself (port, data folder, logger). `auth`
 * is optional: without it the CLI uses the dev secret kept in the data folder.
 */
export type SynclineConfig = Omit<ServerOptions, 'auth' | 'port' | 'dataDir' | 'logger'> & {
  readonly auth?: ServerOptions['auth'];
};

/** Identity function that types a config module. */
export function defineConfig(config: SynclineConfig): SynclineConfig {
  return config;
}
