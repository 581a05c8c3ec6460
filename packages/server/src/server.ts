import type { IncomingMessage } from 'node:http';
import { type CommandType, type ErrorCode, PROTOCOL_VERSION, subprotocolFor } from '@syncline/protocol';
import { RevocationCache } from './auth/revocation-cache.js';
import { defaultRevocationTime, SqliteRevocationStore } from './auth/revocations.js';
import { weakSecretProblem } from './auth/secret-strength.js';
import { createTokenVerifier } from './auth/token-verifier.js';
import type { Broker } from './broker/broker.js';
import { LocalBroker } from './broker/local-broker.js';
import { registerChannelCommands } from './channels/channel-commands.js';
import { ChannelCountsReporter } from './channels/channel-counts.js';
import { ChannelHub } from './channels/channel-hub.js';
import { NamespaceRegistry } from './channels/namespaces.js';
import { publishToChannel } from './channels/publish-service.js';
import { NodeBus } from './cluster/node-bus.js';
import type { AnyHandler, CommandHandler, ServerCore, SessionEvents } from './core.js';
import { registerDocs } from './docs/index.js';
import { backendOf, NodeHealth } from './health/node-health.js';
import type { ServerHooks } from './hooks.js';
import { registerHttpApi } from './http/api-routes.js';
import { clientAddress } from './http/client-address.js';
import { createNodeHttpServer, registerNodeRoutes } from './http/node-http.js';
import { OriginPolicy } from './http/origin-policy.js';
import { HttpRouter } from './http/router.js';
import { MeteredBroker } from './metrics/metered-broker.js';
import { ServerMetrics } from './metrics/metrics.js';
import { DEFAULT_DRAIN_WINDOW_MS, drainSessions } from './ops/drain.js';
import { startDeadlineSweep, startHeartbeats, startHistoryTrim } from './ops/node-timers.js';
import { registerPresence } from './presence/register-presence.js';
import type { SynclineServer } from './server-api.js';
import { REJECTED_RETRY_MS, resolveSettings, type ServerOptions, WEBSOCKET_PATH } from './server-options.js';
import { announceConnected, createAdmission } from './session/admission.js';
import { registerConnectCommands } from './session/connect-commands.js';
import { IpSlots } from './session/ip-slots.js';
import { Session } from './session/session.js';
import { createSessionHost } from './session/session-host.js';
import { SessionRegistry } from './session/session-registry.js';
import { openDatabase, type SqliteDatabase } from './storage/sqlite.js';
import { SqliteHistory } from './storage/sqlite-history.js';
import { HttpTransports } from './transport/http-transports.js';
import type { ConnectionHandler, Transport } from './transport/transport.js';
import { WebSocketTransport } from './transport/websocket.js';
import { UserOperations } from './users/user-operations.js';
import { AppVersions } from './versions/app-versions.js';
import { listenForAnnounces, publishAnnounce } from './versions/cluster-announce.js';

export type { SynclineServer } from './server-api.js';
export { type ServerOptions, WEBSOCKET_PATH } from './server-options.js';

/** Creates a Syncline server. Call `listen()` to start it. */
export function createServer(options: ServerOptions): SynclineServer {
  const weakSecret = options.dev === true ? undefined : weakSecretProblem(options.auth);
  if (weakSecret !== undefined) throw new Error(`Refusing to start in production: ${weakSecret}`);
  const settings = resolveSettings(options);
  const { logger, nodeId, codec, maxFrameBytes, maxConnections, limits } = settings;
  const db: SqliteDatabase = openDatabase(settings.dbFile);
  const revocationStore = options.revocations ?? new SqliteRevocationStore(db);
  const revocations = new RevocationCache(
    revocationStore,
    logger,
    revocationStore instanceof SqliteRevocationStore ? revocationStore.snapshot() : undefined,
  );
  const history = new SqliteHistory(db);
  const registry = new SessionRegistry();
  const sessions = registry.all;
  // Metric sources are plain counters of the core, read when scraped.
  const metrics = new ServerMetrics(nodeId, {
    connections: () => sessions.size,
    subscriptions: () => {
      let n = 0;
      for (const s of sessions) n += s.subscriptionCount;
      return n;
    },
    channels: () => hub.channelCount,
    publicationsOut: () => hub.publicationsOut,
    deliveries: () => hub.deliveries,
  });
  const broker: Broker = new MeteredBroker(options.broker ?? new LocalBroker(history), metrics);
  const namespaces = new NamespaceRegistry(options.namespaces ?? {});
  const hooks: ServerHooks = options.hooks ?? {};
  const hub = new ChannelHub(broker, (err, channel) => logger.error({ err, channel }, 'channel delivery failed'));
  const handlers = new Map<string, AnyHandler>();
  const sessionEvents: SessionEvents = { connected: new Set(), refreshed: new Set(), closed: new Set() };
  // Open connections per client address, and those not connected yet (a quarter of the limit).
  const ipSlots = new IpSlots(limits.maxConnectionsPerIp);
  sessionEvents.connected.add((session) => ipSlots.connected(session));
  sessionEvents.closed.add((session) => ipSlots.release(session));
  const appVersions = new AppVersions(options.app, sessions, db, logger);
  const bus = new NodeBus({ broker, nodeId, logger, clustered: options.broker !== undefined });
  const counts =
    options.channelCounts && new ChannelCountsReporter(options.channelCounts, nodeId, () => hub.counts(), logger);
  // Backends that report their health (Redis, PostgreSQL): readiness, fast refusals, `status` pushes.
  const health = new NodeHealth({
    logger,
    sessions,
    backends: { broker: options.broker, docs: options.docStore },
    onChange: (backend, up) => metrics.backendUp.set({ backend }, up ? 1 : 0),
  });

  const core: ServerCore = {
    nodeId,
    logger,
    broker,
    hub,
    namespaces,
    verifier: createTokenVerifier(options.auth),
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
      const run = handler as unknown as AnyHandler;
      // Commands needing a backend that is down are refused at once, not left waiting on it.
      handlers.set(
        type,
        backendOf(type) === undefined
          ? run
          : (session, cmd) => {
              health.assertServable(type);
              return run(session, cmd);
            },
      );
    },
    sessionsOf(user) {
      return registry.sessionsOf(user);
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
  const host = createSessionHost({
    codec,
    maxFrameBytes,
    maxQueueBytes: settings.maxQueueBytes,
    handlers,
    registry,
    hub,
    sessionEvents,
    hooks,
    logger,
    metrics,
  });

  registerConnectCommands(core, {
    pingIntervalMs: settings.pingIntervalMs,
    features: [],
    ...(options.protocolRange ? { protocol: options.protocolRange } : {}),
    appUpdate: (session) => appVersions.assess(session),
    status: () => health.status(),
    admit: createAdmission({ revocations, registry, limits, sessionEvents }),
  });
  registerChannelCommands(core);
  const presence = registerPresence(core, options.presence);
  announceConnected(handlers, sessionEvents, hooks, logger);

  let closing = false;
  let ready = false;
  let draining = false;
  const transports: Transport[] = [];
  // Every transport hands its connections to the same handler.
  const acceptConnection: ConnectionHandler = (conn, req) => {
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
    const ip = clientAddress(req, settings.trustProxyHops);
    const refused = ipSlots.refusal(ip);
    if (refused) {
      // WebSocket: accepted and closed at once with 4009 and the error (HTTP transports answer 429 earlier).
      metrics.rejectedConnections.inc({ reason: 'ip_limit' });
      session.replyError(undefined, refused);
      session.close('TOO_MANY_CONNECTIONS', refused.message, refused.retryAfterMs);
      return;
    }
    // The connect deadline is checked by the node-wide deadline sweep.
    registry.add(session);
    ipSlots.add(session, ip);
  };
  transports.push(
    new WebSocketTransport(
      { path: WEBSOCKET_PATH, hardMaxFrameBytes: settings.hardMaxFrameBytes, subprotocols: [subprotocolFor(codec)] },
      acceptConnection,
    ),
  );

  const heartbeat = startHeartbeats(sessions, settings.pingIntervalMs);
  const deadlines = startDeadlineSweep(sessions, settings.connectTimeoutMs);
  const trim = startHistoryTrim(namespaces, history, logger);

  const router = new HttpRouter();
  const docs = registerDocs(core, {
    namespaces: options.docs ?? {},
    router,
    ...(options.docStore ? { store: options.docStore } : {}),
    ...(options.docFanout ? { fanout: options.docFanout } : {}),
  });
  if (options.httpTransports?.enabled !== false) {
    const ctx = {
      nodeId,
      maxFrameBytes,
      maxBodyBytes: settings.hardMaxFrameBytes,
      onConnection: acceptConnection,
      admit: (req: IncomingMessage) => ipSlots.refusal(clientAddress(req, settings.trustProxyHops)),
    };
    transports.push(new HttpTransports(router, ctx, options.httpTransports));
  }
  registerNodeRoutes(
    router,
    nodeId,
    metrics,
    () => ({
      ready: ready && !closing && !draining && sessions.size < maxConnections && health.healthy,
      draining,
      connections: sessions.size,
      maxConnections,
      ...health.backends(),
    }),
    { requireKey: options.metrics?.requireKey === true, apiKey: options.apiKey },
  );
  const httpServer = createNodeHttpServer({
    router,
    transports,
    staticDir: options.static,
    logger,
    draining: () => draining,
    origins: new OriginPolicy({
      allowedOrigins: options.allowedOrigins,
      dev: options.dev === true,
      trustProxyHops: settings.trustProxyHops,
    }),
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
    async listen() {
      await revocations.start();
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        const onListening = (): void => {
          httpServer.off('error', reject);
          const addr = httpServer.address();
          port = typeof addr === 'object' && addr ? addr.port : 0;
          const h = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : 'localhost';
          baseUrl = `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
          ready = true;
          counts?.start();
          logger.info({ port, node: nodeId, protocol: PROTOCOL_VERSION }, 'syncline listening');
          resolve({ port, url: baseUrl });
        };
        if (options.host) httpServer.listen(settings.port, options.host, onListening);
        else httpServer.listen(settings.port, onListening);
      });
    },
    async close() {
      if (closing && !ready) return;
      closing = true;
      ready = false;
      clearInterval(heartbeat);
      clearInterval(deadlines);
      clearInterval(trim);
      health.close();
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
    publish(channel, data, publishOptions = {}) {
      return publishToChannel(core, { channel, data, publisher: { kind: 'server' }, key: publishOptions.key });
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
  registerHttpApi(server, { maxBodyBytes: maxFrameBytes });
  return server;
}
