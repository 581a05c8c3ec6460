import type { ServerOptions } from './server.js';

/**
 * What a `syncline.config.ts` (or `.js`) module exports as default: server
 * options minus what the CLI sets itself (port, data folder, logger, dev
 * mode). `auth` is optional in dev mode only (`syncline start --dev`): without
 * it the CLI uses the dev secret kept in the data folder. In production the
 * CLI refuses to start without it.
 */
export type SynclineConfig = Omit<ServerOptions, 'auth' | 'port' | 'dataDir' | 'logger' | 'dev'> & {
  readonly auth?: ServerOptions['auth'];
};

/**
 * Identity function that types a config module. It keeps the config's own
 * type (its namespaces and their schemas), so the client can be typed from
 * it: `createClient<typeof config>(…)` with `import type config from …`.
 */
export function defineConfig<const C extends SynclineConfig>(config: C): C {
  return config;
}
