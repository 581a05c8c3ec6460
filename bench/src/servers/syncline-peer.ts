import { join } from 'node:path';
import { createServer, WEBSOCKET_PATH } from '@syncline/server';
import { BENCH_HISTORY_SIZE, BENCH_SECRET, type BenchServer, type BenchServerOptions } from './bench-server.js';

/** Syncline, embedded mode: in-process broker, history in a SQLite file (WAL). */
export async function startSyncline(options: BenchServerOptions): Promise<BenchServer> {
  const server = createServer({
    port: 0,
    host: '127.0.0.1',
    database: join(options.dataDir, 'syncline.db'),
    auth: { secret: BENCH_SECRET },
    namespaces: { bench: { history: { size: BENCH_HISTORY_SIZE, ttlMs: 10 * 60_000 } } },
    limits: {
      maxConnectionsPerUser: 1_000_000,
      publishRatePerSec: 1_000_000,
      publishBurst: 1_000_000,
    },
    maxConnections: 1_000_000,
    maxQueueBytes: 64 * 1024 * 1024,
  });
  const { port } = await server.listen();
  return {
    url: `ws://127.0.0.1:${port}${WEBSOCKET_PATH}`,
    connections: () => server.connectionCount,
    close: () => server.close(),
  };
}
