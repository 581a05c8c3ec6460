import { toJsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import { MAX_ADMIN_KEY_BYTES } from './admin/admin-options.js';
import { MAX_CALL_WAIT_MS } from './cluster/node-calls.js';
import type { SynclineConfig } from './config.js';
import { MIN_REFRESH_INTERVAL_MS } from './proxy/proxy-refresh.js';
import {
  MAX_WEBHOOK_ENDPOINTS,
  MAX_WEBHOOK_NAMESPACES,
  MAX_WEBHOOK_URL_LENGTH,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_SECRET_LENGTH,
} from './webhooks/webhook-options.js';

/**
 * The config a JSON file holds (`syncline start --config syncline.config.json`):
 * every option of `defineConfig` that is not a function or an object of
 * code. Mutators, hooks, schemas, RPC handlers and injected stores need a
 * TypeScript or JavaScript config. The JSON Schema published with the
 * package (`syncline.config.schema.json`) is generated from these
 * definitions, so editors complete the file and validation here and there
 * agree. Unknown keys are refused (a typo is an error, not a silent default).
 */

const PositiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
const NonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0));
const NonNegative = v.pipe(v.number(), v.minValue(0));
const Text = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));

const Auth = v.strictObject({
  secret: v.exactOptional(
    v.pipe(Text(4096), v.description('Shared secret of HS256/384/512 tokens (at least 32 bytes in production).')),
  ),
  publicKey: v.exactOptional(v.pipe(Text(16_384), v.description('PEM public key (SPKI) of RS/ES/EdDSA tokens.'))),
  algorithm: v.exactOptional(v.pipe(Text(20), v.description('Algorithm of `publicKey` (RS256, ES256, EdDSA …).'))),
  jwksUrl: v.exactOptional(v.pipe(v.string(), v.url(), v.description('URL of a JSON Web Key Set.'))),
  issuer: v.exactOptional(Text(1024)),
  audience: v.exactOptional(Text(1024)),
  clockToleranceSec: v.exactOptional(NonNegative),
});

const Namespace = v.strictObject({
  history: v.exactOptional(
    v.strictObject({ size: v.exactOptional(NonNegativeInt), ttlMs: v.exactOptional(PositiveInt) }),
  ),
  allowPublish: v.exactOptional(v.picklist(['clients', 'subscribers', 'none'])),
  recover: v.exactOptional(v.boolean()),
  recoverWindowMs: v.exactOptional(NonNegativeInt),
  presence: v.exactOptional(v.union([v.boolean(), v.strictObject({ maxMembers: v.exactOptional(PositiveInt) })])),
});

const Limits = v.strictObject({
  maxChannelsPerConnection: v.exactOptional(PositiveInt),
  maxConnectionsPerUser: v.exactOptional(PositiveInt),
  publishRatePerSec: v.exactOptional(NonNegative),
  publishBurst: v.exactOptional(PositiveInt),
  mutateRatePerSec: v.exactOptional(NonNegative),
  mutateBurst: v.exactOptional(PositiveInt),
  presenceEntriesPerUser: v.exactOptional(PositiveInt),
  mutatorTimeoutMs: v.exactOptional(NonNegativeInt),
  mutatorMsPerSec: v.exactOptional(NonNegative),
  mutatorBurstMs: v.exactOptional(NonNegative),
  maxConnectionsPerIp: v.exactOptional(PositiveInt),
  rpcRatePerSec: v.exactOptional(NonNegative),
  rpcBurst: v.exactOptional(PositiveInt),
  rpcConcurrency: v.exactOptional(PositiveInt),
  rpcTimeoutMs: v.exactOptional(PositiveInt),
});

const Url = v.pipe(v.string(), v.url(), v.maxLength(2048));

const ProxyConfig = v.strictObject({
  connect: v.exactOptional(Url),
  refresh: v.exactOptional(Url),
  refreshMinIntervalMs: v.exactOptional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(MIN_REFRESH_INTERVAL_MS),
      v.description('Shortest time between two refreshes of one connection, ms (default 10,000).'),
    ),
  ),
  subscribe: v.exactOptional(Url),
  publish: v.exactOptional(Url),
  rpc: v.exactOptional(Url),
  namespaces: v.exactOptional(
    v.record(Text(64), v.strictObject({ subscribe: v.exactOptional(Url), publish: v.exactOptional(Url) })),
  ),
  timeoutMs: v.exactOptional(PositiveInt),
  headers: v.exactOptional(v.record(Text(256), v.pipe(v.string(), v.maxLength(4096)))),
  secret: v.exactOptional(Text(4096)),
  maxInFlight: v.exactOptional(PositiveInt),
});

/** The JSON config file's schema. */
export const ConfigFile = v.pipe(
  v.strictObject({
    $schema: v.exactOptional(v.string()),
    auth: v.exactOptional(Auth),
    namespaces: v.exactOptional(v.record(Text(64), Namespace)),
    maxFrameBytes: v.exactOptional(PositiveInt),
    codecs: v.exactOptional(v.pipe(v.array(v.picklist(['json', 'msgpack'])), v.minLength(1))),
    handshakeConnect: v.exactOptional(v.boolean()),
    maxQueueBytes: v.exactOptional(PositiveInt),
    pingIntervalMs: v.exactOptional(PositiveInt),
    connectTimeoutMs: v.exactOptional(PositiveInt),
    limits: v.exactOptional(Limits),
    maxConnections: v.exactOptional(PositiveInt),
    apiKey: v.exactOptional(v.pipe(v.string(), v.minLength(16), v.maxLength(512))),
    static: v.exactOptional(Text(4096)),
    nodeId: v.exactOptional(Text(64)),
    presence: v.exactOptional(
      v.strictObject({
        graceMs: v.exactOptional(NonNegativeInt),
        updateIntervalMs: v.exactOptional(NonNegativeInt),
        maxStateBytes: v.exactOptional(PositiveInt),
        nodeHeartbeatMs: v.exactOptional(PositiveInt),
        nodeTtlMs: v.exactOptional(PositiveInt),
      }),
    ),
    cluster: v.exactOptional(
      v.strictObject({
        nodeHeartbeatMs: v.exactOptional(PositiveInt),
        nodeTtlMs: v.exactOptional(PositiveInt),
        countWaitMs: v.exactOptional(v.pipe(PositiveInt, v.maxValue(MAX_CALL_WAIT_MS))),
      }),
    ),
    httpTransports: v.exactOptional(
      v.strictObject({
        enabled: v.exactOptional(v.boolean()),
        pollTimeoutMs: v.exactOptional(PositiveInt),
        idleTimeoutMs: v.exactOptional(PositiveInt),
      }),
    ),
    app: v.exactOptional(
      v.strictObject({
        version: Text(100),
        minClientVersion: v.exactOptional(Text(100)),
        recommendedClientVersion: v.exactOptional(Text(100)),
        message: v.exactOptional(Text(1000)),
      }),
    ),
    allowedOrigins: v.exactOptional(v.array(Text(2048))),
    trustProxy: v.exactOptional(v.union([v.boolean(), NonNegativeInt])),
    admin: v.exactOptional(
      v.strictObject({
        key: v.pipe(
          v.string(),
          v.minLength(1),
          v.maxLength(MAX_ADMIN_KEY_BYTES),
          v.description('Key that signs operators in to the console at /admin (at least 32 bytes in production).'),
        ),
      }),
    ),
    metrics: v.exactOptional(v.strictObject({ requireKey: v.exactOptional(v.boolean()) })),
    proxy: v.exactOptional(ProxyConfig),
    webhooks: v.exactOptional(
      v.pipe(
        v.array(
          v.strictObject({
            url: Text(MAX_WEBHOOK_URL_LENGTH),
            events: v.pipe(v.array(v.picklist(WEBHOOK_EVENT_TYPES)), v.minLength(1)),
            secret: v.pipe(v.string(), v.minLength(WEBHOOK_SECRET_LENGTH.min), v.maxLength(WEBHOOK_SECRET_LENGTH.max)),
            namespaces: v.exactOptional(v.pipe(v.array(Text(64)), v.maxLength(MAX_WEBHOOK_NAMESPACES))),
            retryForMs: v.exactOptional(PositiveInt),
          }),
        ),
        v.maxLength(MAX_WEBHOOK_ENDPOINTS),
      ),
    ),
    webhookDelivery: v.exactOptional(
      v.strictObject({
        timeoutMs: v.exactOptional(PositiveInt),
        concurrency: v.exactOptional(PositiveInt),
        maxBatchEvents: v.exactOptional(PositiveInt),
        maxBatchBytes: v.exactOptional(PositiveInt),
        maxOutboxEvents: v.exactOptional(PositiveInt),
        retryBaseMs: v.exactOptional(PositiveInt),
        retryMaxMs: v.exactOptional(PositiveInt),
        failedRetentionMs: v.exactOptional(PositiveInt),
        pollIntervalMs: v.exactOptional(PositiveInt),
      }),
    ),
  }),
  v.title('Syncline server config'),
  v.description('Options of `syncline start --config file.json`; see docs/operations.md.'),
);

/** What a JSON config file holds, once validated. */
export type ConfigFileOptions = v.InferOutput<typeof ConfigFile>;

// A valid file is a valid config: this fails to compile when the two drift apart.
const asConfig = (file: Omit<ConfigFileOptions, '$schema'>): SynclineConfig => file;
void asConfig;

/** A JSON config file's text, parsed and validated; throws an `Error` naming the file, the path and the problem. */
export function parseConfigFile(text: string, file: string): SynclineConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const r = v.safeParse(ConfigFile, raw);
  if (!r.success) {
    const lines = r.issues.slice(0, 10).map((i) => {
      const path = i.path?.map((p) => String(p.key)).join('.') || '(top level)';
      return `  ${path}: ${i.message}`;
    });
    throw new Error(`${file} is not a valid Syncline config:\n${lines.join('\n')}`);
  }
  const { $schema: _schema, ...config } = r.output;
  return config;
}

/** Where the JSON Schema is published (in the package, beside `dist/`). */
export const CONFIG_SCHEMA_FILE = 'syncline.config.schema.json';

/** The JSON Schema of a config file, generated from `ConfigFile`. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = toJsonSchema(ConfigFile, { target: 'draft-2020-12' }) as Record<string, unknown>;
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: CONFIG_SCHEMA_FILE, ...schema };
}
