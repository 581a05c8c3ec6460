import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import {
  type AppVersionConfig,
  CLOSE_CODES,
  type ClientCommand,
  type CloseCodeName,
  type Codec,
  type CommandType,
  type ErrorCode,
  jsonCodec,
  PROTOCOL_VERSION,
  SynclineError,
  subprotocolFor,
  toSynclineError,
} from '@syncline/protocol';
import { type Logger, pino } from 'pino';
import { RevocationCache } from './auth/revocation-cache.js';
import { defaultRevocationTime, type RevocationStore, SqliteRevocationStore } from './auth/revocations.js';
import { type AuthOptions, createTokenVerifier, type Principal, type TokenVerifier } from './auth/token-verifier.js';
import type { Broker } from './broker/broker.js';
import { LocalBroker } from './broker/local-broker.js';
import { registerChannelCommands } from './channels/channel-commands.js';
import { ChannelCountsReporter, type ChannelCountsStore } from './channels/channel-counts.js';
import { ChannelHub, FANOUT_SLICE_BUDGET_MS } from './channels/channel-hub.js';
import { type NamespaceOptions, NamespaceRegistry } from './channels/namespaces.js';
import { NodeBus } from './cluster/node-bus.js';
import type { AnyHandler, CommandHandler, Limits, ServerCore, SessionEvents } from './core.js';
import { type DocFanout, type DocNamespaceOptions, type DocStore, type DocsApi, registerDocs } from './docs/index.js';
import type { ServerHooks } from './hooks.js';
import { registerHttpApi } from './http/api-routes.js';
import { HttpRouter, sendError, sendJson } from './http/router.js';
import { serveStatic } from './http/static.js';
import { MeteredBroker } from './metrics/metered-broker.js';
import { ServerMetrics } from './metrics/metrics.js';
import { DEFAULT_DRAIN_WINDOW_MS, type DrainOptions, drainSessions } from './ops/drain.js';
import { type PresenceOptions, type PresenceService, registerPresence } from './presence/register-presence.js';
import { registerConnectCommands } from './session/connect-commands.js';
import { Session, type SessionHost } from './session/session.js';
import { UserSlots } from './session/user-slots.js';
import { openDatabase, type SqliteDatabase } from './storage/sqlite.js';
import { SqliteHistory } from './storage/sqlite-history.js';
import { type HttpTransportOptions, HttpTransports } from './transport/http-transports.js';
import type { ConnectionHandler, Transport } from './transport/transport.js';
import { WebSocketTransport } from './transport/websocket.js';
import { UserOperations } from './users/user-operations.js';
import { registerAppRoutes } from './versions/app-routes.js';
import { type AppAnnounceResult, AppVersions } from './versions/app-versions.js';
import { listenForAnnounces, publishAnnounce } from './versions/cluster-announce.js';

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
  /** API key of the server HTTP API (`Authorization: Bearer …`); the API is off without one. */
  readonly apiKey?: string;
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
  readonly docFanout?: DocFanout;
  /** Presence: grace period, update coalescing, store (see docs/presence.md). */
  readonly presence?: PresenceOptions;
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
}

/** WebSocket endpoint path. */
export const WEBSOCKET_PATH = '/connect/ws';

/** A running (or ready to run) Syncline server. */
export interface SynclineServer {
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<{ port: number; url: string }>;
  /** Closes every connection and releases storage. */
  close(): Promise<void>;
  /** HTTP base URL, once listening (`http://host:port`). */
  readonly url: string;
  /** Bound port, once listening. */
  readonly port: number;
  /** The node's HTTP server (to mount under another app or read its address). */
  readonly httpServer: Server;
  /** The core, for feature modules and adapters. */
  readonly core: ServerCore;
  /** Routes of the HTTP API; add your own. */
  readonly router: HttpRouter;
  /** Publishes from the server (no publisher user); resolves with the offset. */
  publish(
    channel: string,
    data: unknown,
    options?: { key?: string },
  ): Promise<{ offset: number; epoch: string; duplicate: boolean }>;
  /** Closes every connection of a user. */
  disconnectUser(user: string, close?: CloseCodeName, reason?: string): number;
  /** Documents, server side: read and mutate (ordered, persisted and broadcast like a client's mutation). */
  readonly docs: DocsApi;
  /**
   * Revokes a user: refuses their tokens issued before `before` (default: the
   * start of the next second, i.e. every token issued so far) at connect and
   * refresh, persistently, and closes their connections holding such tokens
   * with `REVOKED`.
   */
  revokeUser(user: string, options?: { before?: number; reason?: string }): { before: number; disconnected: number };
  /** Lifts a user's revocation; returns whether there was one. */
  unrevokeUser(user: string): boolean;
  /** Sends a `message` push to every connection of a user; returns how many got it. */
  sendToUser(user: string, data: unknown): number;
  /** Presence sets of channels (server side). */
  readonly presence: PresenceService;
  /** Number of connected sessions. */
  readonly connectionCount: number;
  /**
   * Drains the node: `/readyz` turns 503, new connections are refused with
   * `SHUTDOWN`, and every connection is closed with `SHUTDOWN` at a random
   * moment within `windowMs` (with a small reconnect hint), so clients move to
   * other nodes spread out and recover there. Resolves once all are closed;
   * call `close()` next.
   */
  drain(options?: DrainOptions): Promise<void>;
  /** True once `drain()` was called. */
  readonly draining: boolean;
  /** Prometheus metrics of this node (served at `/metrics`). */
  readonly metrics: ServerMetrics;
  /** The app version settings in force (`ServerOptions.app`, or the last announce). */
  readonly app: AppVersionConfig | undefined;
  /**
   * Announces new app version settings at runtime, on every node of the
   * cluster: connected clients are judged again and pushed `update` when
   * their verdict changed. Resolves with what changed on this node.
   */
  setAppVersion(config: AppVersionConfig): Promise<AppAnnounceResult>;
}

const DEFAULTS = {
  port: 8787,
  maxFrameBytes: 64 * 1024,
  maxQueueBytes: 4 * 1024 * 1024,
  pingIntervalMs: 25_000,
  connectTimeoutMs: 10_000,
  maxConnections: 100_000,
} as const;

/** Base reconnect hint for refused connections (node full or draining); jittered up to twice this. */
const REJECTED_RETRY_MS = 1_000;

const DEFAULT_LIMITS: Limits = {
  maxChannelsPerConnection: 512,
  maxConnectionsPerUser: 64,
  publishRatePerSec: 50,
  publishBurst: 100,
};

/** Creates a Syncline server. Call `listen()` to start it. */
export function createServer(options: ServerOptions): SynclineServer {
  const logger = options.logger ?? pino({ level: process.env.SYNCLINE_LOG_LEVEL ?? 'warn' });
  const nodeId = options.nodeId ?? randomBytes(4).toString('hex');
  const codec: Codec = jsonCodec;
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULTS.maxFrameBytes;
  const maxQueueBytes = options.maxQueueBytes ?? DEFAULTS.maxQueueBytes;
  const pingIntervalMs = options.pingIntervalMs ?? DEFAULTS.pingIntervalMs;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  const maxConnections = options.maxConnections ?? DEFAULTS.maxConnections;
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const dbFile = options.database ?? (options.dataDir ? join(options.dataDir, 'syncline.db') : ':memory:');
  const db: SqliteDatabase = openDatabase(dbFile);
  const revocationStore = options.revocations ?? new SqliteRevocationStore(db);
  const revocations = new RevocationCache(
    revocationStore,
    logger,
    revocationStore instanceof SqliteRevocationStore ? revocationStore.snapshot() : undefined,
  );
  const userSlots = new UserSlots();
  const history = new SqliteHistory(db);
  // Metric sources are plain counters of the core, read when scraped.
  const metrics = new ServerMetrics(nodeId, {
    connections: () => sessions.size,
    subscriptions: () => {
      let n = 0;
      for (const s of sessions) n += s.subscriptions.size;
      return n;
    },
    channels: () => hub.channelCount,
    publicationsOut: () => hub.publicationsOut,
    deliveries: () => hub.deliveries,
  });
  const broker: Broker = new MeteredBroker(options.broker ?? new LocalBroker(history), metrics);
  const verifier: TokenVerifier = createTokenVerifier(options.auth);
  const namespaces = new NamespaceRegistry(options.namespaces ?? {});
  const hooks: ServerHooks = options.hooks ?? {};
  const hub = new ChannelHub(broker, (err, channel) => logger.error({ err, channel }, 'channel delivery failed'));
  const sessions = new Set<Session>();
  const byUser = new Map<string, Set<Session>>();
  const handlers = new Map<string, AnyHandler>();
  const sessionEvents: SessionEvents = { connected: new Set(), refreshed: new Set(), closed: new Set() };
  const EMPTY: ReadonlySet<Session> = new Set();
  const appVersions = new AppVersions(options.app, sessions, db, logger);
  const bus = new NodeBus({ broker, nodeId, logger, clustered: options.broker !== undefined });
  const counts =
    options.channelCounts && new ChannelCountsReporter(options.channelCounts, nodeId, () => hub.counts(), logger);

  const core: ServerCore = {
    nodeId,
    logger,
    broker,
    hub,
    namespaces,
    verifier,
    hooks,
    limits,
    db,
    metrics,
    apiKey: options.apiKey,
    sessions,
    sessionEvents,
    get users() {
      return users;
    },
    async subscriberCounts() {
      return counts ? counts.totals() : hub.counts();
    },
    command<K extends CommandType>(type: K, handler: CommandHandler<K>) {
      handlers.set(type, handler as unknown as AnyHandler);
    },
    sessionsOf(user) {
      return byUser.get(user) ?? EMPTY;
    },
    assertClientCurrent(session: Session) {
      appVersions.assertCurrent(session);
    },
    unsubscribeSession(session: Session, channel: string, code: ErrorCode, message: string) {
      const sink = session.subscriptions.get(channel);
      if (!sink) return;
      session.subscriptions.delete(channel);
      hub.remove(channel, sink);
      session.send({ type: 'unsubscribed', channel, code, message });
    },
  };

  const users = new UserOperations(core, bus, revocations, logger);

  // Flushes of every session touched in this tick happen together, in slices
  // of at most FANOUT_SLICE_BUDGET_MS: the writes of a large fan-out never
  // block the event loop for long (sessions not reached keep their frames
  // queued, in order, and go first in the next slice).
  let dirty: Session[] = [];
  let flushScheduled = false;
  const flushAll = (): void => {
    flushScheduled = false;
    const list = dirty;
    dirty = [];
    const deadline = performance.now() + FANOUT_SLICE_BUDGET_MS;
    for (let i = 0; i < list.length; i++) {
      (list[i] as Session).flush();
      if ((i & 63) === 63 && i + 1 < list.length && performance.now() >= deadline) {
        dirty = dirty.length === 0 ? list.slice(i + 1) : list.slice(i + 1).concat(dirty);
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flushAll);
        }
        return;
      }
    }
  };

  const host: SessionHost = {
    codec,
    maxFrameBytes,
    maxQueueBytes,
    maxCommandsPerFrame: 100,
    dispatch(session: Session, command: ClientCommand) {
      const handler = handlers.get(command.type);
      if (!handler)
        throw new SynclineError('unknown_command', `Command "${command.type}" is not enabled on this server.`);
      return handler(session, command);
    },
    scheduleFlush(session: Session) {
      dirty.push(session);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    },
    sessionClosed(session: Session, code: number, reason: string) {
      sessions.delete(session);
      for (const [channel, sink] of session.subscriptions) hub.remove(channel, sink);
      if (session.principal) {
        const set = byUser.get(session.user);
        set?.delete(session);
        if (set?.size === 0) byUser.delete(session.user);
      }
      for (const l of sessionEvents.closed) {
        try {
          l(session, code, reason);
        } catch (err) {
          logger.error({ err }, 'session close listener failed');
        }
      }
      if (session.principal) {
        try {
          hooks.afterDisconnect?.({ session: session.id, user: session.user, code, reason });
        } catch (err) {
          logger.warn({ err }, 'afterDisconnect hook failed');
        }
      }
      logger.debug({ session: session.id, code, reason }, 'session closed');
    },
    onSlowConsumer() {
      metrics.sendQueueDrops.inc();
    },
    logError(err: unknown, session: Session) {
      logger.error({ err, session: session.id }, 'command failed');
    },
  };

  registerConnectCommands(core, {
    pingIntervalMs,
    features: [],
    ...(options.protocolRange ? { protocol: options.protocolRange } : {}),
    appUpdate: (session) => appVersions.assess(session),
    admit(principal: Principal, session: Session) {
      revocations.check(principal);
      if (session.state === 'connected') return;
      const held = (byUser.get(principal.user)?.size ?? 0) + userSlots.pending(principal.user, session);
      if (held >= limits.maxConnectionsPerUser) {
        throw new SynclineError(
          'too_many_connections',
          `User already has ${limits.maxConnectionsPerUser} connections on this node.`,
          { details: { limit: 'maxConnectionsPerUser', value: limits.maxConnectionsPerUser } },
        );
      }
      userSlots.reserve(principal.user, session);
    },
  });
  sessionEvents.closed.add((session) => userSlots.release(session));
  sessionEvents.connected.add((session) => {
    userSlots.release(session);
    let set = byUser.get(session.user);
    if (!set) {
      set = new Set();
      byUser.set(session.user, set);
    }
    set.add(session);
  });
  registerChannelCommands(core);
  const presence = registerPresence(core, options.presence);

  // The connected event fires once the connect reply is on its way.
  const connectHandler = handlers.get('connect') as AnyHandler;
  handlers.set('connect', async (session, command) => {
    const result = await connectHandler(session, command);
    if (session.state === 'connected') {
      for (const l of sessionEvents.connected) l(session);
      try {
        hooks.afterConnect?.({
          session: session.id,
          user: session.user,
          principal: session.principal as Principal,
          transport: session.conn.transport,
          app: session.app,
        });
      } catch (err) {
        logger.warn({ err }, 'afterConnect hook failed');
      }
    }
    return result;
  });

  const transports: Transport[] = [];
  const hardMaxFrameBytes = Math.max(maxFrameBytes * 16, 1024 * 1024);
  // Every transport hands its connections to the same handler.
  const acceptConnection: ConnectionHandler = (conn) => {
    const session = new Session(conn, host);
    if (sessions.size >= maxConnections || closing || draining) {
      const full = !(closing || draining);
      metrics.rejectedConnections.inc({ reason: full ? 'limit' : 'draining' });
      // The reconnect hint is jittered so refused clients do not return together.
      session.close(
        full ? 'TOO_MANY_CONNECTIONS' : 'SHUTDOWN',
        full ? 'node at connection limit' : 'node draining or closing',
        REJECTED_RETRY_MS + Math.floor(Math.random() * REJECTED_RETRY_MS),
      );
      return;
    }
    sessions.add(session);
    session.addTimer(
      setTimeout(() => {
        if (session.state === 'connecting' || session.state === 'authenticating') {
          session.close('CONNECT_TIMEOUT', 'no connect command in time');
        }
      }, connectTimeoutMs),
    );
  };
  const ws = new WebSocketTransport(
    { path: WEBSOCKET_PATH, hardMaxFrameBytes, subprotocols: [subprotocolFor(codec)] },
    acceptConnection,
  );
  transports.push(ws);

  // Heartbeats: one timer for the node. A session still awaiting the pong of
  // the previous round is dead.
  const heartbeat = setInterval(() => {
    for (const s of sessions) {
      if (s.state !== 'connected') continue;
      if (s.awaitingPong) {
        s.close('HEARTBEAT_TIMEOUT', 'no pong');
        continue;
      }
      s.awaitingPong = true;
      s.pushFrame('{"type":"ping"}');
    }
  }, pingIntervalMs);
  heartbeat.unref();

  const trim = setInterval(() => {
    const now = Date.now();
    for (const ns of namespaces.all()) {
      try {
        history.trimExpired(ns.name, ns.history.ttlMs, now);
      } catch (err) {
        logger.warn({ err }, 'history trim failed');
      }
    }
  }, 60_000);
  trim.unref();

  const router = new HttpRouter();
  const docs = registerDocs(core, {
    namespaces: options.docs ?? {},
    router,
    ...(options.docStore ? { store: options.docStore } : {}),
    ...(options.docFanout ? { fanout: options.docFanout } : {}),
  });
  if (options.httpTransports?.enabled !== false) {
    const ctx = { nodeId, maxFrameBytes, maxBodyBytes: hardMaxFrameBytes, onConnection: acceptConnection };
    transports.push(new HttpTransports(router, ctx, options.httpTransports));
  }
  let closing = false;
  let ready = false;
  let draining = false;
  router.add('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok', node: nodeId }));
  router.add('GET', '/readyz', (_req, res) => {
    const ok = ready && !closing && !draining && sessions.size < maxConnections;
    sendJson(res, ok ? 200 : 503, { ready: ok, draining, connections: sessions.size, maxConnections, node: nodeId });
  });
  router.add('GET', '/metrics', async (_req, res) => {
    const { contentType, body } = await metrics.render();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(body);
  });

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      const m = router.match(req.method ?? 'GET', url.pathname);
      if (m === 'method') {
        sendError(res, new SynclineError('invalid_command', `Method ${req.method} is not allowed on ${url.pathname}.`));
        return;
      }
      if (m) {
        await m.handler(req, res, m.params);
        return;
      }
      if (options.static && (await serveStatic(options.static, req, res, url.pathname))) return;
      sendError(res, new SynclineError('not_found', `No route for ${req.method} ${url.pathname}.`));
    } catch (err) {
      const e = toSynclineError(err);
      if (e.code === 'internal') logger.error({ err }, 'http request failed');
      sendError(res, e);
    }
  };

  const httpServer = createHttpServer((req, res) => {
    void onRequest(req, res);
  });
  httpServer.on('upgrade', (req, socket, head) => {
    if (draining) {
      // Refused before the upgrade, so a load balancer tries another node at once.
      socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n\r\n');
      return;
    }
    for (const t of transports) if (t.handleUpgrade?.(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  httpServer.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  let port = 0;
  let baseUrl = '';

  const server: SynclineServer = {
    get url() {
      return baseUrl;
    },
    get port() {
      return port;
    },
    get connectionCount() {
      return sessions.size;
    },
    get draining() {
      return draining;
    },
    metrics,
    async drain(drainOptions = {}) {
      draining = true;
      const windowMs = drainOptions.windowMs ?? DEFAULT_DRAIN_WINDOW_MS;
      logger.info({ node: nodeId, connections: sessions.size, windowMs }, 'draining');
      await drainSessions(sessions, windowMs);
    },
    httpServer,
    core,
    router,
    docs,
    listen() {
      return revocations.start().then(
        () =>
          new Promise((resolve, reject) => {
            httpServer.once('error', reject);
            const onListening = (): void => {
              httpServer.off('error', reject);
              const addr = httpServer.address();
              port = typeof addr === 'object' && addr ? addr.port : 0;
              const h =
                options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : 'localhost';
              baseUrl = `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
              ready = true;
              counts?.start();
              logger.info({ port, node: nodeId, protocol: PROTOCOL_VERSION }, 'syncline listening');
              resolve({ port, url: baseUrl });
            };
            if (options.host) httpServer.listen(options.port ?? DEFAULTS.port, options.host, onListening);
            else httpServer.listen(options.port ?? DEFAULTS.port, onListening);
          }),
      );
    },
    async close() {
      if (closing && !ready) return;
      closing = true;
      ready = false;
      clearInterval(heartbeat);
      clearInterval(trim);
      for (const s of [...sessions]) s.close('SHUTDOWN', 'server closing', 0);
      await Promise.all(transports.map((t) => t.close()));
      await new Promise<void>((resolve) => {
        if (!httpServer.listening) resolve();
        else httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
      await presence.close();
      await docs.close();
      await counts?.close();
      await revocations.close();
      await broker.close();
      db.close();
    },
    async publish(channel, data, publishOptions = {}) {
      const ns = namespaces.forChannel(channel);
      const outcome = await broker.publish({
        channel,
        data,
        user: undefined,
        key: publishOptions.key === undefined ? undefined : `s:${publishOptions.key}`,
        history: ns.history,
      });
      if (!outcome.duplicate) {
        try {
          hooks.afterPublish?.({ user: undefined, channel, data, offset: outcome.offset });
        } catch (err) {
          logger.warn({ err }, 'afterPublish hook failed');
        }
      }
      return outcome;
    },
    disconnectUser(user, close = 'FORCE_DISCONNECT', reason = 'disconnected by server') {
      const r = users.disconnect(user, close, reason);
      users.logFailure('disconnect', user, r.cluster);
      return r.local;
    },
    revokeUser(user, revokeOptions = {}) {
      const before = revokeOptions.before ?? defaultRevocationTime();
      const r = users.revoke(user, before, revokeOptions.reason ?? 'access revoked');
      users.logFailure('revocation', user, r.cluster);
      return r.local;
    },
    unrevokeUser(user) {
      const r = users.lift(user);
      users.logFailure('lifting a revocation', user, r.cluster);
      return r.local;
    },
    sendToUser(user, data) {
      const r = users.sendToUser(user, data);
      users.logFailure('user message', user, r.cluster);
      return r.local;
    },
    presence,
    get app() {
      return appVersions.config;
    },
    async setAppVersion(config) {
      const result = appVersions.set(config);
      await publishAnnounce(bus, config, logger);
      return result;
    },
  };
  listenForAnnounces(bus, (config) => appVersions.set(config));
  registerAppRoutes(server);
  void CLOSE_CODES;
  registerHttpApi(server, { maxBodyBytes: maxFrameBytes });
  return server;
}
