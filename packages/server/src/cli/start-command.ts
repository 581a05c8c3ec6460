import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { adminKeyProblem } from '../admin/admin-options.js';
import { signToken } from '../auth/sign.js';
import type { SynclineConfig } from '../config.js';
import { createServer } from '../server.js';
import { type ClusterUrls, clusterOptions, clusterUrls } from './cluster.js';
import { loadDevCredentials } from './dev-credentials.js';
import { authProblem, DEV_HOST, resolveDevMode } from './dev-mode.js';
import { DEV_NAMESPACES } from './dev-namespaces.js';
import { addDevTokenRoute, DEV_TOKEN_TTL_SEC } from './dev-routes.js';
import { fail, refuse } from './exit.js';
import { loadConfig } from './load-config.js';
import { parseDurationSec } from './parse-duration.js';

/** Hosts that only this machine reaches. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '::1', 'localhost']);

function findConfig(): string | undefined {
  for (const name of ['syncline.config.ts', 'syncline.config.mjs', 'syncline.config.js']) {
    if (existsSync(name)) return name;
  }
  return undefined;
}

/** The banner line that says what the node serves besides the API: the static folder, or no web UI. */
function servedLine(url: string, staticDir: string | undefined): string {
  if (staticDir === undefined) return `No web UI is served (--static DIR serves one); connect a client to ${url}.`;
  const dir = resolve(staticDir);
  const missing = existsSync(join(dir, 'index.html')) ? '' : ' (it has no index.html yet: build the app first)';
  return `Serving the web app in ${dir}${missing} at ${url}/`;
}

/** `syncline start`: runs a node until SIGINT or SIGTERM. */
export async function startCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dev: { type: 'boolean', default: false },
      port: { type: 'string', default: process.env.PORT ?? '8787' },
      host: { type: 'string' },
      data: { type: 'string', default: process.env.SYNCLINE_DATA ?? './data' },
      config: { type: 'string' },
      static: { type: 'string' },
      redis: { type: 'string', multiple: true },
      'redis-cluster': { type: 'string' },
      postgres: { type: 'string' },
      'redis-ack-replicas': { type: 'string' },
      'redis-ack-timeout-ms': { type: 'string' },
      'drain-window': { type: 'string', default: process.env.SYNCLINE_DRAIN_WINDOW ?? '10s' },
    },
  });
  const port = Number(values.port);
  const drainWindowSec = parseDurationSec(values['drain-window']);
  if (drainWindowSec === undefined) fail(`bad --drain-window "${values['drain-window']}"`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port "${values.port}"`);
  let devMode: boolean;
  try {
    devMode = resolveDevMode(values.dev, process.env);
  } catch (err) {
    refuse((err as Error).message);
  }
  const dataDir = resolve(values.data);
  const configFile = values.config ?? findConfig();
  const config: SynclineConfig = configFile ? await loadConfig(configFile) : { namespaces: DEV_NAMESPACES };
  const logger = pino({ level: process.env.SYNCLINE_LOG_LEVEL ?? 'info' });
  const problem = authProblem(config.auth, devMode);
  if (problem !== undefined) {
    if (!devMode) refuse(problem);
    process.stderr.write(`syncline: warning (refused in production): ${problem}\n`);
  }
  // The dev secret and key exist only in dev mode, and only when the config has no auth.
  const usingDevSecret = devMode && config.auth === undefined;
  const dev = usingDevSecret ? loadDevCredentials(dataDir) : undefined;
  const apiKey = config.apiKey ?? process.env.SYNCLINE_API_KEY ?? dev?.apiKey;
  // The console: the config's key, else SYNCLINE_ADMIN_KEY, else in dev mode the generated one.
  const envAdminKey = process.env.SYNCLINE_ADMIN_KEY || undefined;
  const devAdminKey =
    devMode && config.admin === undefined && envAdminKey === undefined
      ? loadDevCredentials(dataDir).adminKey
      : undefined;
  const adminKey = config.admin?.key ?? envAdminKey ?? devAdminKey;
  const adminProblem = adminKey === undefined ? undefined : adminKeyProblem(adminKey, devMode);
  if (adminProblem !== undefined) refuse(adminProblem);
  const host = values.host ?? config.host ?? (devMode ? DEV_HOST : undefined);
  const staticDir = values.static ?? config.static;
  let urls: ClusterUrls;
  try {
    urls = clusterUrls(values, process.env);
  } catch (err) {
    fail((err as Error).message);
  }
  const cluster = await clusterOptions(urls, logger);
  const server = createServer({
    ...config,
    ...cluster,
    ...(cluster.presence ? { presence: { ...config.presence, ...cluster.presence } } : {}),
    ...(cluster.httpTransports ? { httpTransports: { ...config.httpTransports, ...cluster.httpTransports } } : {}),
    ...(host ? { host } : {}),
    ...(staticDir ? { static: resolve(staticDir) } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(adminKey ? { admin: { key: adminKey } } : {}),
    port,
    dataDir,
    logger,
    dev: devMode,
    auth: config.auth ?? (dev ? { secret: dev.secret } : refuse('no auth')),
  });
  if (dev) addDevTokenRoute(server, dev.secret);
  const { url } = await server.listen();
  const out: string[] = [
    `\nSyncline is running at ${url}  (data: ${dataDir}${configFile ? `, config: ${configFile}` : ''})`,
    devMode
      ? `Dev mode (--dev or NODE_ENV=development): for local development only${config.allowedOrigins ? '' : '; any browser origin is allowed'}.`
      : 'Production mode.',
  ];
  out.push(servedLine(url, staticDir));
  if (adminKey) {
    out.push(
      adminKey === devAdminKey
        ? `Operator console: ${url}/admin  (admin key: ${adminKey})`
        : `Operator console: ${url}/admin`,
    );
  }
  if (dev && host !== undefined && !LOOPBACK_HOSTS.has(host)) {
    out.push(`Warning: dev mode on ${host}: anyone who reaches it can get a full-access token from POST /dev/token.`);
  }
  if (dev) {
    const devToken = await signToken(dev.secret, {
      sub: 'dev',
      caps: [{ match: '*', allow: ['*'] }],
      ttlSec: DEV_TOKEN_TTL_SEC,
    });
    out.push(
      `Dev token (user "dev", all capabilities, 24 h):\n  ${devToken}`,
      `HTTP API key: ${apiKey}`,
      'Tokens are signed with a dev secret kept in the data folder; production needs `auth` in the config.',
    );
  }
  process.stdout.write(`${out.join('\n')}\n\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // SIGTERM drains first: clients move to other nodes spread over the window.
    const drained = signal === 'SIGTERM' ? server.drain({ windowMs: drainWindowSec * 1000 }) : Promise.resolve();
    drained
      .then(() => server.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
