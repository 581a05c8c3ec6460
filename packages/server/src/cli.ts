#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { type Capability, OPERATIONS, type Operation } from './auth/capabilities.js';
import { signToken } from './auth/sign.js';
import { type ClusterUrls, clusterOptions, clusterUrls } from './cli/cluster.js';
import { loadDevCredentials } from './cli/dev-credentials.js';
import { authProblem, DEV_HOST, resolveDevMode } from './cli/dev-mode.js';
import { DEV_NAMESPACES } from './cli/dev-namespaces.js';
import { addDevTokenRoute, DEV_TOKEN_TTL_SEC } from './cli/dev-routes.js';
import { loadConfig } from './cli/load-config.js';
import { parseDurationSec } from './cli/parse-duration.js';
import type { SynclineConfig } from './config.js';
import { createServer } from './server.js';

const USAGE = `Usage:
  syncline start [--dev] [--port 8787] [--host H] [--data ./data] [--config syncline.config.ts] [--static DIR]
                 [--redis redis://HOST:6379] [--postgres postgres://USER@HOST/DB] [--drain-window 10s]
                 [--redis-ack-replicas N] [--redis-ack-timeout-ms 1000]
  syncline token [--data ./data | --secret S] --sub USER [--allow PATTERN[=op,op]]... [--ttl 1h]

start   runs a server. Without --config it looks for syncline.config.{ts,mjs,js} in the
        current folder. Production rules apply by default: the config must set auth
        (a shared secret needs 32+ bytes) and nothing is handed out. Dev mode (--dev or
        NODE_ENV=development) listens on 127.0.0.1 unless --host says otherwise, allows
        any browser origin and, without auth in the config, signs with a dev secret
        kept in the data folder, prints a full-access token and serves POST /dev/token
        for demo sign-in. --redis (or SYNCLINE_REDIS_URL) and --postgres (or
        SYNCLINE_POSTGRES_URL) make it a cluster node; without them it runs embedded.
        --redis-ack-replicas N (or SYNCLINE_REDIS_ACK_REPLICAS) acknowledges a publish only
        once N Redis replicas have it (WAIT), else answers timeout after
        --redis-ack-timeout-ms (or SYNCLINE_REDIS_ACK_TIMEOUT_MS, default 1000).
        SIGTERM drains the node over --drain-window (clients reconnect elsewhere), then exits.
token   prints an HS256 token signed with --secret (or SYNCLINE_SECRET): the auth.secret
        of your config; without either, with the dev secret of the data folder (the one
        dev mode uses without auth in the config; created if missing). --allow takes a glob over channel/document names, optionally with
        operations (${OPERATIONS.join(', ')}); without operations every operation is allowed.`;

function fail(message: string): never {
  process.stderr.write(`syncline: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** Hosts that only this machine reaches. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '::1', 'localhost']);

/** Refuses to start with a one-line reason (no usage: the arguments were fine). */
function refuse(message: string): never {
  process.stderr.write(`syncline: ${message}\n`);
  process.exit(1);
}

function parseAllow(spec: string): Capability {
  const [match, ops] = spec.split('=', 2) as [string, string | undefined];
  if (!match) fail(`bad --allow "${spec}"`);
  if (ops === undefined) return { match, allow: ['*'] };
  const allow = ops.split(',').map((o) => o.trim());
  for (const op of allow) {
    if (op !== '*' && !(OPERATIONS as readonly string[]).includes(op)) fail(`unknown operation "${op}" in --allow`);
  }
  return { match, allow: allow as (Operation | '*')[] };
}

async function token(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string', default: './data' },
      secret: { type: 'string' },
      sub: { type: 'string' },
      allow: { type: 'string', multiple: true },
      ttl: { type: 'string', default: '1h' },
    },
  });
  if (!values.sub) fail('--sub is required');
  const ttlSec = parseDurationSec(values.ttl);
  if (ttlSec === undefined) fail(`bad --ttl "${values.ttl}"`);
  const caps = (values.allow ?? []).map(parseAllow);
  const secret = values.secret ?? process.env.SYNCLINE_SECRET ?? loadDevCredentials(resolve(values.data)).secret;
  if (secret === '') fail('the secret is empty');
  process.stdout.write(`${await signToken(secret, { sub: values.sub, caps, ttlSec })}\n`);
}

function findConfig(): string | undefined {
  for (const name of ['syncline.config.ts', 'syncline.config.mjs', 'syncline.config.js']) {
    if (existsSync(name)) return name;
  }
  return undefined;
}

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dev: { type: 'boolean', default: false },
      port: { type: 'string', default: process.env.PORT ?? '8787' },
      host: { type: 'string' },
      data: { type: 'string', default: process.env.SYNCLINE_DATA ?? './data' },
      config: { type: 'string' },
      static: { type: 'string' },
      redis: { type: 'string' },
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
      staticDir ? `Open ${url} in two browser tabs and chat between them.` : `Connect a client to ${url}.`,
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

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'start':
      return start(rest);
    case 'token':
      return token(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      fail(`unknown command "${command}"`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`syncline: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
