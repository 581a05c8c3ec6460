import type { IncomingMessage } from 'node:http';
import type { CommandType } from '@syncline/protocol';
import { createAdmin } from './admin/register-admin.js';
import { RevocationCache } from './auth/revocation-cache.js';
import { defaultRevocationTime, SqliteRevocationStore } from './auth/revocations.js';
import { weakSecretProblem } from './auth/secret-strength.js';
import { createTokenVerifier } from './auth/token-verifier.js';
import type { Broker } from './broker/broker.js';
import { LocalBroker } from './broker/local-broker.js';
import { ChannelCountsReporter } from './channels/channel-counts.js';
import { ClusterOccupancy } from './channels/cluster-occupancy.js';
import { publishToChannel } from './channels/publish-service.js';
import { registerChannels } from './channels/register-channels.js';
import { resolveClusterTiming } from './cluster/cluster-timing.js';
import { linkNodes } from './cluster/node-links.js';
import type { AnyHandler, CommandHandler, ServerCore, SessionEvents } from './core.js';
import { registerDocs } from './docs/index.js';
import { backendOf, NodeHealth } from './health/node-health.js';
import type { ServerHooks } from './hooks.js';
import { registerHttpApi } from './http/api-routes.js';
import { clientAddress } from './http/client-address.js';
import { createNodeHttpServer, type NodeReadiness, registerNodeRoutes } from './http/node-http.js';
import { OriginPolicy } from './http/origin-policy.js';
import { HttpRouter } from './http/router.js';
import { MeteredBroker } from './metrics/metered-broker.js';
import { ServerMetrics } from './metrics/metrics.js';
import { assertAppNamespaces, NamespaceRegistry } from './namespaces/namespaces.js';
import { describeNode, NodeDirectory } from './nodes/node-directory.js';
import { startDeadlineSweep, startHeartbeats, startHistoryTrim } from './ops/node-timers.js';
import { registerPresence } from './presence/register-presence.js';
import { createProxy } from './proxy/register-proxy.js';
import { registerRpc } from './rpc/register-rpc.js';
import { createConnectionAcceptor } from './server-admission.js';
import type { SynclineServer } from './server-api.js';
import { ServerLifecycle } from './server-lifecycle.js';
import { resolveSettings, type ServerOptions, WEBSOCKET_PATH } from './server-options.js';
import { announceConnected, createAdmission } from './session/admission.js';
import { registerConnectCommands } from './session/connect-commands.js';
import { IpSlots } from './session/ip-slots.js';
import type { Session } from './session/session.js';
import { createSessionHost } from './session/session-host.js';
import { SessionRegistry } from './session/session-registry.js';
import { openDatabase, type SqliteDatabase } from './storage/sqlite.js';
import { SqliteHistory } from './storage/sqlite-history.js';
import { WalCheckpointer } from './storage/wal-checkpointer.js';
import { HttpTransports } from './transport/http-transports.js';
import type { Transport } from './transport/transport.js';
import { WebSocketTransport } from './transport/websocket.js';
import { UserDirectory } from './users/user-directory.js';
import { UserOperations } from './users/user-operations.js';
import { AppVersions } from './versions/app-versions.js';
import { ClientVersions } from './versions/client-versions.js';
import { listenForAnnounces, publishAnnounce } from './versions/cluster-announce.js';
import { registerWebhooks } from './webhooks/register-webhooks.js';
import { resolveWebhookDelivery, resolveWebhookEndpoints } from './webhooks/webhook-options.js';

export type { SynclineServer } from './server-api.js';
export { type ServerOptions, WEBSOCKET_PATH } from './server-options.js';

/** What must hold before anything is opened: a strong secret in production, app namespaces, webhook settings. */
function assertStartable(options: ServerOptions): void {
  const weakSecret = options.dev === true ? undefined : weakSecretProblem(options.auth);
  if (weakSecret !== undefined) throw new Error(`Refusing to start in production: ${weakSecret}`);
  assertAppNamespaces([...Object.keys(options.namespaces ?? {}), ...Object.keys(options.docs ?? {})]);
  resolveWebhookEndpoints(options.webhooks ?? []);
  resolveWebhookDelivery(options.webhookDelivery);
}

/** Creates a Syncline server. Call `listen()` to start it. */
export function createServer(options: ServerOptions): SynclineServer {
  const startedAt = Date.now();
  assertStartable(options);
  const settings = resolveSettings(options);
  const clusterTiming = resolveClusterTiming(options.cluster);
  const { logger, nodeId, codecs, maxFrameBytes, maxConnections, limits } = settings;
  // The operator console exists only with an admin key (checked before anything is opened).
  const admin =
    options.admin === undefined
      ? undefined
      : createAdmin(options.admin, { dev: options.dev === true, logger, trustProxyHops: settings.trustProxyHops });
  const db: SqliteDatabase = openDatabase(settings.dbFile);
  // The WAL is copied into the database file on a thread of its own, off the event loop.
  const checkpointer = settings.dbFile === ':memory:' ? undefined : new WalCheckpointer(db, settings.dbFile, logger);
  const revocationStore = options.revocations ?? new SqliteRevocationStore(db);
  const revocations = new RevocationCache(
    revocationStore,
    logger,
    revocationStore instanceof SqliteRevocationStore ? revocationStore.snapshot() : undefined,
  );
  // Publications are logged beside the database before they are acknowledged, and moved into it in bulk.
  const history = new SqliteHistory(db, {
    logFile: settings.dbFile === ':memory:' ? undefined : `${settings.dbFile}-publog`,
    onMoveError: (err) => logger.error({ err }, 'moving logged publications into the database failed; retrying'),
  });
  if (history.readBack.publications > 0 || history.readBack.skipped > 0)
    logger.info(history.readBack, 'read back publications acknowledged before the last stop and not yet stored');
  const registry = new SessionRegistry();
  const sessions = registry.all;
  // Metric sources are plain counters of the core, read when scraped.
  const metrics = new ServerMetrics(nodeId, { connections: () => sessions.size });
  const broker: Broker = new MeteredBroker(options.broker ?? new LocalBroker(history), metrics);
  const namespaces = new NamespaceRegistry({ ...options.namespaces, ...admin?.namespaces });
  const hooks: ServerHooks = options.hooks ?? {};
  const handlers = new Map<string, AnyHandler>();
  const sessionEvents: SessionEvents = { connected: new Set(), refreshed: new Set(), closed: new Set() };
  // Open connections per client address, and those not connected yet (a quarter of the limit).
  const ipSlots = new IpSlots(limits.maxConnectionsPerIp);
  sessionEvents.connected.add((session) => ipSlots.connected(session));
  sessionEvents.closed.add((session) => ipSlots.release(session));
  const appVersions = new AppVersions(options.app, sessions, db, logger);
  const clustered = options.broker !== undefined;
  const { bus, peers, calls: nodeCalls } = linkNodes({ broker, nodeId, logger, clustered, timing: clusterTiming });
  const counts =
    options.channelCounts &&
    new ChannelCountsReporter(options.channelCounts, nodeId, () => channels.localCounts(), logger);
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
    namespaces,
    verifier: admin ? admin.verifier(createTokenVerifier(options.auth)) : createTokenVerifier(options.auth),
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
      return counts ? counts.totals() : channels.localCounts();
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
  };

  const users = new UserOperations(core, nodeCalls, revocations, logger, clusterTiming.countWaitMs);
  const userDirectory = new UserDirectory(
    {
      nodeId,
      usersAfter: (prefix, after, limit) => registry.usersAfter(prefix, after, limit),
      sessionsOf: (user) => registry.sessionsOf(user),
      find: (id) => registry.find(id),
      addressOf: (session) => ipSlots.addressOf(session) ?? session.conn.remoteAddress,
    },
    nodeCalls,
    clusterTiming.countWaitMs,
  );
  const host = createSessionHost({
    maxFrameBytes,
    maxQueueBytes: settings.maxQueueBytes,
    handlers,
    registry,
    sessionEvents,
    hooks,
    logger,
    metrics,
  });

  const proxy = createProxy(options.proxy, logger);
  proxy.refresher?.attach(core);
  registerConnectCommands(core, {
    authenticate: proxy.authenticate,
    pingIntervalMs: settings.pingIntervalMs,
    features: [],
    ...(options.protocolRange ? { protocol: options.protocolRange } : {}),
    appUpdate: (session) => appVersions.assess(session),
    status: () => health.status(),
    admit: createAdmission({ revocations, registry, limits, sessionEvents }),
  });
  const channels = registerChannels(core, proxy.channelPolicy);
  // Cluster-wide occupancy costs a Redis write per channel change: only for receivers of occupancy events.
  const occupancy =
    options.occupancy && (options.webhooks ?? []).some((e) => e.events.some((t) => t.startsWith('channel.')))
      ? new ClusterOccupancy(channels, options.occupancy, nodeId, logger)
      : undefined;
  const presence = registerPresence(core, options.presence);
  registerRpc(core, options.rpc, proxy.rpcFallback);
  announceConnected(handlers, sessionEvents, hooks, logger);

  const transports: Transport[] = [];
  // Every transport hands its connections to the same handler.
  const acceptConnection = createConnectionAcceptor({
    host,
    registry,
    ipSlots,
    metrics,
    maxConnections,
    trustProxyHops: settings.trustProxyHops,
    refusing: () => lifecycle.refusing,
  });
  transports.push(
    new WebSocketTransport(
      {
        path: WEBSOCKET_PATH,
        hardMaxFrameBytes: settings.hardMaxFrameBytes,
        codecs,
        handshakeConnect: options.handshakeConnect ?? true,
      },
      acceptConnection,
    ),
  );

  const heartbeat = startHeartbeats(sessions, settings.pingIntervalMs);
  const deadlines = startDeadlineSweep(sessions, settings.connectTimeoutMs);
  const trim = startHistoryTrim(namespaces, history, logger);

  const router = new HttpRouter();
  const docs = registerDocs(core, {
    namespaces: options.docs ?? {},
    ...(options.docStore ? { store: options.docStore } : {}),
    ...(options.docFanout ? { fanout: options.docFanout } : {}),
  });
  const webhooks = registerWebhooks(core, {
    endpoints: options.webhooks ?? [],
    ...(options.webhookDelivery ? { delivery: options.webhookDelivery } : {}),
    outbox: options.webhookOutbox,
    sources: {
      // Publication events share the embedded history's transaction; an injected broker may offer a feed.
      publications: clustered ? undefined : history,
      publicationFeed: clustered ? options.publicationFeed : undefined,
      channels: occupancy ?? channels,
      presence,
      docs: docs.store,
    },
  });
  if (options.httpTransports?.enabled !== false) {
    const ctx = {
      nodeId,
      maxFrameBytes,
      maxBodyBytes: settings.hardMaxFrameBytes,
      onConnection: acceptConnection,
      codecs,
      admit: (req: IncomingMessage) => ipSlots.refusal(clientAddress(req, settings.trustProxyHops)),
    };
    transports.push(new HttpTransports(router, ctx, options.httpTransports));
  }
  const readiness = (): NodeReadiness => ({
    ready: lifecycle.ready && !lifecycle.refusing && sessions.size < maxConnections && health.healthy,
    draining: lifecycle.draining,
    connections: sessions.size,
    maxConnections,
    ...health.backends(),
  });
  registerNodeRoutes(router, nodeId, metrics, readiness, {
    requireKey: options.metrics?.requireKey === true,
    apiKey: options.apiKey,
  });
  const describeThisNode = () =>
    describeNode({
      id: nodeId,
      startedAt,
      protocol: options.protocolRange,
      readiness,
      users: () => registry.userCount,
    });
  admin?.attach({
    router,
    registry: metrics.registry,
    nodeId,
    describe: () => {
      const n = describeThisNode();
      const { version, protocol, ready, draining, connections } = n;
      return { node: n.id, version, protocol, ready, draining, connections };
    },
    publish: (channel, data) => publishToChannel(core, { channel, data, publisher: { kind: 'server' } }),
    calls: nodeCalls,
    callWaitMs: clusterTiming.countWaitMs,
    reads: {
      docNamespaces: () =>
        docs.namespaces.list().map((n) => ({
          namespace: n.name,
          mutators: Object.keys(n.mutators),
          schemaVersion: n.versions.schemaVersion,
        })),
      webhookSummary: async () => {
        const { receivers, pending, failed, oldestPendingAt } = await webhooks.summary();
        return { receivers, pending, failed, oldestPendingAt: oldestPendingAt ?? null };
      },
    },
    bus,
    db,
    sessionsOf: (user) => registry.sessionsOf(user),
    counters: options.counters,
  });
  const nodes = new NodeDirectory(nodeCalls, describeThisNode, clusterTiming.countWaitMs);
  const httpServer = createNodeHttpServer({
    router,
    transports,
    staticDir: options.static,
    logger,
    draining: () => lifecycle.draining,
    origins: new OriginPolicy({
      allowedOrigins: options.allowedOrigins,
      dev: options.dev === true,
      trustProxyHops: settings.trustProxyHops,
    }),
  });

  const lifecycle = new ServerLifecycle({
    nodeId,
    logger,
    httpServer,
    transports,
    sessions,
    host: options.host,
    port: settings.port,
    beforeListen: async () => {
      await revocations.start();
      await peers.start();
    },
    onListening: () => {
      counts?.start();
      occupancy?.start();
      webhooks.start();
      admin?.start();
    },
    stopTimers: () => {
      clearInterval(heartbeat);
      clearInterval(deadlines);
      clearInterval(trim);
      admin?.stop();
      health.close();
    },
    closeServices: async () => {
      await occupancy?.close();
      await webhooks.close();
      await presence.close();
      await docs.close();
      await counts?.close();
      await peers.close();
      await revocations.close();
      await broker.close();
      history.close();
      await checkpointer?.stop();
      db.close();
    },
  });

  const server: SynclineServer = {
    get url() {
      return lifecycle.url;
    },
    get port() {
      return lifecycle.port;
    },
    get connectionCount() {
      return sessions.size;
    },
    get draining() {
      return lifecycle.draining;
    },
    metrics,
    drain(drainOptions = {}) {
      return lifecycle.drain(drainOptions);
    },
    httpServer,
    core,
    router,
    docs,
    channels: { localCounts: () => channels.localCounts(), subscriptionCount: (s) => channels.subscriptionCount(s) },
    listen() {
      return lifecycle.listen();
    },
    close() {
      return lifecycle.close();
    },
    publish(channel, data, publishOptions = {}) {
      return publishToChannel(core, { channel, data, publisher: { kind: 'server' }, key: publishOptions.key });
    },
    disconnectUser: (user, close = 'FORCE_DISCONNECT', reason = 'disconnected by server') =>
      users.localOf('disconnect', user, users.disconnect(user, close, reason)),
    revokeUser: (user, { before = defaultRevocationTime(), reason = 'access revoked' } = {}) =>
      users.localOf('revocation', user, users.revoke(user, before, reason)),
    unrevokeUser: (user) => users.localOf('lifting a revocation', user, users.lift(user)),
    sendToUser: (user, data) => users.localOf('user message', user, users.sendToUser(user, data)),
    presence,
    nodes,
    userDirectory,
    webhooks: {
      list: (status, after, limit) => webhooks.list(status, after, limit),
      retry: (id) => webhooks.retry(id),
      publicationReceivers: (namespace) =>
        (options.webhooks ?? []).filter((e) => e.events.includes('publication') && e.namespaces?.includes(namespace))
          .length,
    },
    get app() {
      return appVersions.config;
    },
    clientVersions: new ClientVersions(sessions, () => appVersions.config, nodeCalls, clusterTiming.countWaitMs),
    async setAppVersion(config) {
      const result = appVersions.set(config);
      await publishAnnounce(bus, config, logger);
      return result;
    },
  };
  listenForAnnounces(bus, (config) => appVersions.set(config));
  registerHttpApi(server, {
    maxBodyBytes: maxFrameBytes,
    authenticate: admin && ((req, route) => admin.authenticateApi(req, route)),
  });
  return server;
}
