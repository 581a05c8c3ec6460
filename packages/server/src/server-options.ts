import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type AppVersionConfig, CODECS, type Codec, type CodecName } from '@syncline/protocol';
import { type Logger, pino } from 'pino';
import type { AdminOptions } from './admin/admin-options.js';
import type { RevocationStore } from './auth/revocations.js';
import type { AuthOptions } from './auth/token-verifier.js';
import type { Broker } from './broker/broker.js';
import type { ChannelCountsStore } from './channels/channel-counts.js';
import type { OccupancyStore } from './channels/cluster-occupancy.js';
import type { ClusterTimingOptions } from './cluster/cluster-timing.js';
import type { WindowCounters } from './cluster/window-counters.js';
import type { Limits } from './core.js';
import type { DocFanout, DocNamespaceOptions, DocStore } from './docs/index.js';
import type { ServerHooks } from './hooks.js';
import type { NamespaceOptions } from './namespaces/namespaces.js';
import type { PresenceOptions } from './presence/register-presence.js';
import type { ProxyOptions } from './proxy/register-proxy.js';
import type { RpcMethods } from './rpc/rpc-methods.js';
import type { HttpTransportOptions } from './transport/http-transports.js';
import type { PublicationFeed } from './webhooks/publication-feed.js';
import type { WebhookDeliveryOptions, WebhookEndpointOptions } from './webhooks/webhook-options.js';
import type { WebhookOutboxFactory } from './webhooks/webhook-outbox.js';

/** Options of `createServer`. */
export interface ServerOptions {
  /** TCP port (default 8787; 0 picks a free one). */
  readonly port?: number;
  /** Interface to bind (default all). */
  readonly host?: string;
  /** Folder for the embedded database; without it and without `database`, data lives in memory. */
  readonly dataDir?: string;
  /** SQLite file path (or `:memory:`); overrides `dataDir`. */
  readonly database?: string;
  /** How connection tokens are verified. */
  readonly auth: AuthOptions;
  /** Channel namespaces and their options. */
  readonly namespaces?: Readonly<Record<string, NamespaceOptions>>;
  /** Largest accepted frame; bigger frames get `frame_too_large` (default 64 KiB). */
  readonly maxFrameBytes?: number;
  /**
   * Codecs clients may pick, in order of preference (default `['json',
   * 'msgpack']`). The first is used by clients that name none.
   */
  readonly codecs?: readonly CodecName[];
  /**
   * Whether WebSocket clients may carry their `connect` in the upgrade
   * request, answered in the same write as the upgrade response (the
   * handshake connect, docs/protocol.md); default true. Off, they send a
   * `connect` frame as every other transport does.
   */
  readonly handshakeConnect?: boolean;
  /** Bytes queued for one connection before it is dropped as a slow consumer (default 4 MiB). */
  readonly maxQueueBytes?: number;
  /** Interval of server pings; a peer silent for a whole interval after a ping is closed (default 25 s). */
  readonly pingIntervalMs?: number;
  /** Time allowed between opening a connection and `connect` (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Connection and rate limits. */
  readonly limits?: Partial<Limits>;
  /** Most connections this node accepts (default 100,000). */
  readonly maxConnections?: number;
  /** API key of the server HTTP API (`Authorization: Bearer …`); the API is off without one (or with `undefined`, as from an unset environment variable). */
  readonly apiKey?: string | undefined;
  /** Folder of static files served at `/` (the demo app). */
  readonly static?: string;
  /** Hooks that run around connection, subscription and publication. */
  readonly hooks?: ServerHooks;
  /** Injected logger (pino); default pino at `SYNCLINE_LOG_LEVEL` or `warn`. */
  readonly logger?: Logger;
  /** Injected broker (cluster adapters); default the embedded one. */
  readonly broker?: Broker;
  /** Node id for logs and diagnostics (default random). */
  readonly nodeId?: string;
  /** Document namespaces (mutators, schema, initial state, op log settings); see docs/documents.md. */
  readonly docs?: Readonly<Record<string, DocNamespaceOptions>>;
  /** Document storage (default: SQLite in the server's database). */
  readonly docStore?: DocStore;
  /** How committed document ops reach other nodes (default in process; a cluster passes its adapter's). */
  readonly docFanout?: DocFanout | undefined;
  /** Presence: grace period, update coalescing, store (see docs/presence.md). */
  readonly presence?: PresenceOptions;
  /** Methods clients may call with `client.rpc(name, data)` (capability `rpc` on the name); see docs/rpc.md. */
  readonly rpc?: RpcMethods;
  /** The app's backend decides connects, subscribes, publishes and RPC calls over HTTP; see docs/proxy.md. */
  readonly proxy?: ProxyOptions;
  /** SSE and long-polling fallback transports (on by default); see docs/transports.md. */
  readonly httpTransports?: HttpTransportOptions;
  /** App version and the client versions it accepts; see docs/versioning.md. */
  readonly app?: AppVersionConfig;
  /** Protocol versions this node accepts (default: all this build speaks); see docs/versioning.md. */
  readonly protocolRange?: { readonly min: number; readonly max: number };
  /** Where revocations are kept (default: the node's SQLite); a cluster passes its shared store. */
  readonly revocations?: RevocationStore;
  /** Where nodes report channel subscriber counts for the HTTP API (default: none, counts of this node). */
  readonly channelCounts?: ChannelCountsStore;
  /** With an injected broker: node announces and the wait for other nodes' counts; see docs/operations.md. */
  readonly cluster?: ClusterTimingOptions;
  /**
   * Which nodes have subscribers of each channel, shared by a cluster: with
   * it, `channel.occupied`/`channel.vacated` webhook events describe the
   * whole cluster (first subscriber anywhere, last one gone everywhere);
   * without it, this node. See docs/webhooks.md.
   */
  readonly occupancy?: OccupancyStore;
  /**
   * The cluster-wide feed of publications of an injected broker (Redis):
   * with it, `publication` webhook events are sent in a cluster. See
   * docs/webhooks.md.
   */
  readonly publicationFeed?: PublicationFeed;
  /**
   * Fixed-window counters shared by a cluster (Redis): with them the
   * operator console's sign-in failure limits count the failures of every
   * node; without them, each node counts its own. See docs/admin.md.
   */
  readonly counters?: WindowCounters;
  /**
   * Development mode (default false: production rules). Only changes the
   * default of `allowedOrigins` (any origin in dev mode); `syncline start
   * --dev` sets it. See docs/operations.md.
   */
  readonly dev?: boolean;
  /**
   * Browser origins (`https://app.example.com`) allowed to open WebSockets and
   * call the HTTP transports and API. A request with another `Origin` gets 403
   * `forbidden` (WebSocket upgrades are refused before upgrading); allowed
   * ones get their origin back in `access-control-allow-origin`. Requests
   * without `Origin` (non-browser clients) are not affected. Default: the
   * same origin (the Origin's host equals the request's `Host`) plus this
   * list; in dev mode, any origin. `'*'` in the list allows any origin.
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * Behind reverse proxies: read the client address from `X-Forwarded-For`
   * (and the host from `X-Forwarded-Host`) instead of the peer. `true` trusts
   * one proxy (the last address it appended); a number trusts that many hops.
   * Default false: the peer address, which a client cannot forge. Only turn it
   * on when every request arrives through the proxy, or clients can pick
   * their own address.
   */
  readonly trustProxy?: boolean | number;
  /**
   * The operator console at `/admin` (sign in with `key`; at least 32 bytes
   * in production). Without it `/admin` does not exist (404). See docs/admin.md.
   */
  readonly admin?: AdminOptions | undefined;
  /** `/metrics`: with `requireKey`, a scrape needs `Authorization: Bearer <apiKey>` (401 `unauthorized` otherwise). */
  readonly metrics?: { readonly requireKey?: boolean };
  /**
   * Receivers of webhook events (at most 16): each gets the event types its
   * `events` lists, signed with its `secret`, from a durable outbox; see
   * docs/webhooks.md.
   */
  readonly webhooks?: readonly WebhookEndpointOptions[];
  /** Timings and bounds of webhook delivery (timeouts, retries, batch and outbox sizes); see docs/webhooks.md. */
  readonly webhookDelivery?: WebhookDeliveryOptions;
  /**
   * Opens the webhook outbox (default: a table of the node's SQLite). A
   * cluster shares one on PostgreSQL, on the document store's database so
   * that commits write their events in their transaction:
   * `(settings) => postgresDocStore.webhookOutbox(settings)`.
   */
  readonly webhookOutbox?: WebhookOutboxFactory;
}

/** WebSocket endpoint path. */
export const WEBSOCKET_PATH = '/connect/ws';

/** Defaults of the scalar options of `createServer`. */
export const SERVER_DEFAULTS = {
  port: 8787,
  maxFrameBytes: 64 * 1024,
  maxQueueBytes: 4 * 1024 * 1024,
  pingIntervalMs: 25_000,
  connectTimeoutMs: 10_000,
  maxConnections: 100_000,
} as const;

/** Base reconnect hint for refused connections (node full or draining); jittered up to twice this. */
export const REJECTED_RETRY_MS = 1_000;

/** Default connection and rate limits. */
export const DEFAULT_LIMITS: Limits = {
  maxChannelsPerConnection: 512,
  maxConnectionsPerUser: 64,
  publishRatePerSec: 50,
  publishBurst: 100,
  mutateRatePerSec: 100,
  mutateBurst: 200,
  presenceEntriesPerUser: 10,
  mutatorTimeoutMs: 100,
  mutatorMsPerSec: 250,
  mutatorBurstMs: 1_000,
  rpcRatePerSec: 50,
  rpcBurst: 100,
  rpcConcurrency: 16,
  rpcTimeoutMs: 10_000,
  maxConnectionsPerIp: 1_000,
};

/** The options of `createServer` with their defaults applied. */
export interface ServerSettings {
  readonly logger: Logger;
  readonly nodeId: string;
  /** Codecs clients may pick; the first is the default. */
  readonly codecs: readonly Codec[];
  readonly port: number;
  readonly maxFrameBytes: number;
  /** Transport-level frame limit, far above `maxFrameBytes` (frames in between get `frame_too_large`). */
  readonly hardMaxFrameBytes: number;
  readonly maxQueueBytes: number;
  readonly pingIntervalMs: number;
  readonly connectTimeoutMs: number;
  readonly maxConnections: number;
  readonly limits: Limits;
  /** SQLite file path or `:memory:`. */
  readonly dbFile: string;
  /** Proxy hops trusted in `X-Forwarded-For` (0: the peer address). */
  readonly trustProxyHops: number;
}

/** Proxy hops trusted by `trustProxy`: `true` is one, a number that many, anything else none. */
function trustProxyHops(trustProxy: boolean | number | undefined): number {
  if (trustProxy === true) return 1;
  return typeof trustProxy === 'number' && Number.isFinite(trustProxy) ? Math.max(0, Math.floor(trustProxy)) : 0;
}

/** The codecs named by the `codecs` option; throws on an unknown name or an empty list. */
function resolveCodecs(names: readonly CodecName[] = ['json', 'msgpack']): Codec[] {
  if (names.length === 0) throw new Error('The codecs option must name at least one codec.');
  return names.map((name) => {
    if (!Object.hasOwn(CODECS, name)) throw new Error(`Unknown codec "${String(name)}" (known: json, msgpack).`);
    return CODECS[name];
  });
}

/** Applies the defaults to `createServer`'s options. */
export function resolveSettings(options: ServerOptions): ServerSettings {
  const maxFrameBytes = options.maxFrameBytes ?? SERVER_DEFAULTS.maxFrameBytes;
  return {
    logger: options.logger ?? pino({ level: process.env.SYNCLINE_LOG_LEVEL ?? 'warn' }),
    nodeId: options.nodeId ?? randomBytes(4).toString('hex'),
    codecs: resolveCodecs(options.codecs),
    port: options.port ?? SERVER_DEFAULTS.port,
    maxFrameBytes,
    hardMaxFrameBytes: Math.max(maxFrameBytes * 16, 1024 * 1024),
    maxQueueBytes: options.maxQueueBytes ?? SERVER_DEFAULTS.maxQueueBytes,
    pingIntervalMs: options.pingIntervalMs ?? SERVER_DEFAULTS.pingIntervalMs,
    connectTimeoutMs: options.connectTimeoutMs ?? SERVER_DEFAULTS.connectTimeoutMs,
    maxConnections: options.maxConnections ?? SERVER_DEFAULTS.maxConnections,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    dbFile: options.database ?? (options.dataDir ? join(options.dataDir, 'syncline.db') : ':memory:'),
    trustProxyHops: trustProxyHops(options.trustProxy),
  };
}
