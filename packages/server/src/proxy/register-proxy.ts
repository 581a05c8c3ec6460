import { parseName, SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import { compileCapabilities, parseCapabilities } from '../auth/capabilities.js';
import type { Principal } from '../auth/token-verifier.js';
import type { ChannelPolicy } from '../channels/channel-commands.js';
import type { ConnectionInfo } from '../hooks.js';
import type { RpcFallback } from '../rpc/register-rpc.js';
import type { ConnectAuthenticator } from '../session/connect-commands.js';
import { ProxyClient, refusalOf } from './proxy-client.js';
import { MIN_REFRESH_INTERVAL_MS, ProxyRefresher, refreshable } from './proxy-refresh.js';

/** URLs of the app's backend for one namespace's channels (override `proxy.subscribe` / `proxy.publish`). */
export interface ProxyNamespaceOptions {
  readonly subscribe?: string;
  readonly publish?: string;
}

/**
 * The proxy: the node asks the app's backend, over signed HTTP(S) POSTs, to
 * authenticate connects (`connect`), extend the sessions it granted until
 * an `expiresAt` (`refresh`), allow subscribes (`subscribe`), allow,
 * refuse or rewrite publishes (`publish`) and answer RPC calls the config
 * does not define (`rpc`). See docs/proxy.md.
 */
export interface ProxyOptions {
  readonly connect?: string;
  /** Extends connect-proxy sessions granted until an `expiresAt` shortly before it (see docs/proxy.md). */
  readonly refresh?: string;
  /** Shortest time between two refreshes of one connection, ms (default 10,000; at least 100). */
  readonly refreshMinIntervalMs?: number;
  readonly subscribe?: string;
  readonly publish?: string;
  readonly rpc?: string;
  /** Per namespace URLs for subscribes and publishes (instead of the global ones). */
  readonly namespaces?: Readonly<Record<string, ProxyNamespaceOptions>>;
  /** Longest wait for the backend, ms (default 5,000). */
  readonly timeoutMs?: number;
  /** Extra headers on every request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Signs requests with `Syncline-Signature` (as webhooks) so the backend can check they come from Syncline. */
  readonly secret?: string;
  /**
   * Requests in flight at once per node (default 256); past it calls get
   * `unavailable`. Refreshes take at most half of it and queue past that.
   */
  readonly maxInFlight?: number;
}

/** What the node wires in from the proxy. */
export interface Proxy {
  readonly authenticate: ConnectAuthenticator | undefined;
  readonly channelPolicy: ChannelPolicy | undefined;
  readonly rpcFallback: RpcFallback | undefined;
  /** Refreshes connect-proxy sessions before they expire (attach it to the core); undefined without `refresh`. */
  readonly refresher: ProxyRefresher | undefined;
}

/** Longest user id a backend may return (as a token's `sub`). */
const MAX_USER_LENGTH = 200;

function checkUrl(url: string | undefined, what: string): string | undefined {
  if (url === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`proxy.${what} must be an http(s) URL (got "${url}").`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`proxy.${what} must be an http(s) URL.`);
  return url;
}

/** Who a request is about, as the backend gets it. */
function who(info: ConnectionInfo) {
  return { connection: info.session, user: info.user, transport: info.transport, app: info.app ?? null };
}

/** The principal a backend's connect answer describes; throws `unavailable` when the answer is malformed. */
function principalOf(answer: Record<string, unknown>, logger: Logger): { principal: Principal; data?: unknown } {
  if (answer.error !== undefined) throw refusalOf(answer.error, 'connect');
  const user = answer.user;
  const caps = parseCapabilities(answer.caps);
  const expiresAt = answer.expiresAt;
  const valid =
    typeof user === 'string' &&
    user.length > 0 &&
    user.length <= MAX_USER_LENGTH &&
    caps !== undefined &&
    (expiresAt === undefined || (typeof expiresAt === 'number' && Number.isFinite(expiresAt)));
  if (!valid) {
    logger.warn({ answer: Object.keys(answer) }, 'proxy: malformed connect answer');
    throw new SynclineError(
      'unavailable',
      "The app's backend answered the connect request in a way Syncline cannot read.",
      {
        retryAfterMs: 1_000,
      },
    );
  }
  if (typeof expiresAt === 'number' && expiresAt <= Date.now()) {
    throw new SynclineError('token_expired', 'The backend granted a connection that has already expired.');
  }
  const principal: Principal = {
    user,
    expiresAt: typeof expiresAt === 'number' ? expiresAt : undefined,
    issuedAt: Date.now(),
    capabilities: caps,
    can: compileCapabilities(caps),
    info: answer.info,
  };
  return answer.data === undefined ? { principal } : { principal, data: answer.data };
}

/** Builds the proxy's parts from its options (throws on a URL that is not http(s)). */
export function createProxy(options: ProxyOptions | undefined, logger: Logger): Proxy {
  if (options === undefined)
    return { authenticate: undefined, channelPolicy: undefined, rpcFallback: undefined, refresher: undefined };
  const maxInFlight = options.maxInFlight ?? 256;
  const client = new ProxyClient({
    timeoutMs: options.timeoutMs ?? 5_000,
    headers: options.headers ?? {},
    secret: options.secret,
    maxInFlight,
    logger,
  });
  const connectUrl = checkUrl(options.connect, 'connect');
  const refreshUrl = checkUrl(options.refresh, 'refresh');
  if (refreshUrl !== undefined && connectUrl === undefined)
    throw new Error('proxy.refresh extends sessions the connect proxy granted: it needs proxy.connect.');
  const minIntervalMs = options.refreshMinIntervalMs ?? 10_000;
  if (!(Number.isFinite(minIntervalMs) && minIntervalMs >= MIN_REFRESH_INTERVAL_MS))
    throw new Error(`proxy.refreshMinIntervalMs must be at least ${MIN_REFRESH_INTERVAL_MS} (got ${minIntervalMs}).`);
  const refresher =
    refreshUrl === undefined
      ? undefined
      : new ProxyRefresher({
          url: refreshUrl,
          client,
          minIntervalMs,
          maxConcurrent: Math.max(1, Math.floor(maxInFlight / 2)),
          logger,
        });
  const rpcUrl = checkUrl(options.rpc, 'rpc');
  const global = { subscribe: checkUrl(options.subscribe, 'subscribe'), publish: checkUrl(options.publish, 'publish') };
  const perNamespace = new Map<string, ProxyNamespaceOptions>();
  for (const [ns, o] of Object.entries(options.namespaces ?? {})) {
    perNamespace.set(ns, {
      ...(o.subscribe === undefined
        ? {}
        : { subscribe: checkUrl(o.subscribe, `namespaces.${ns}.subscribe`) as string }),
      ...(o.publish === undefined ? {} : { publish: checkUrl(o.publish, `namespaces.${ns}.publish`) as string }),
    });
  }
  const urlFor = (channel: string, kind: 'subscribe' | 'publish'): string | undefined => {
    const ns = parseName(channel)?.namespace;
    const own = ns === undefined ? undefined : perNamespace.get(ns);
    return own?.[kind] ?? global[kind];
  };

  const authenticate: ConnectAuthenticator | undefined =
    connectUrl === undefined
      ? undefined
      : async ({ session, data, client: sdk, app }) => {
          const answer = await client.call(connectUrl, 'connect', {
            connection: session.id,
            transport: session.conn.transport,
            data: data ?? null,
            client: sdk ?? null,
            app: app ?? null,
          });
          const granted = principalOf(answer, logger);
          if (!refresher) return granted;
          refresher.remember(session, data);
          return { ...granted, principal: refreshable(granted.principal) };
        };

  const hasChannelProxy =
    global.subscribe !== undefined ||
    global.publish !== undefined ||
    [...perNamespace.values()].some((o) => o.subscribe !== undefined || o.publish !== undefined);
  const channelPolicy: ChannelPolicy | undefined = hasChannelProxy
    ? {
        async subscribe(info, channel) {
          const url = urlFor(channel, 'subscribe');
          if (url === undefined) return;
          const answer = await client.call(url, 'subscribe', { ...who(info), channel });
          if (answer.error !== undefined) throw refusalOf(answer.error, 'subscribe');
        },
        async publish(info, channel, data) {
          const url = urlFor(channel, 'publish');
          if (url === undefined) return undefined;
          const answer = await client.call(url, 'publish', { ...who(info), channel, data: data ?? null });
          if (answer.error !== undefined) throw refusalOf(answer.error, 'publish');
          return Object.hasOwn(answer, 'data') ? { data: answer.data } : undefined;
        },
        rechecks: (channel) => urlFor(channel, 'subscribe') !== undefined,
      }
    : undefined;

  const rpcFallback: RpcFallback | undefined =
    rpcUrl === undefined
      ? undefined
      : async (data, ctx) => {
          const answer = await client.call(rpcUrl, 'rpc', { ...who(ctx), method: ctx.method, data: data ?? null });
          if (answer.error !== undefined) throw refusalOf(answer.error, 'call');
          return answer.result ?? null;
        };

  return { authenticate, channelPolicy, rpcFallback, refresher };
}
