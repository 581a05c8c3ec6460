import { join } from 'node:path';
import { defineMutators, type Transaction } from '@syncline/protocol';
import { createServer, WEBSOCKET_PATH } from '@syncline/server';
import {
  BENCH_ADMIN_KEY,
  BENCH_API_KEY,
  BENCH_HISTORY_SIZE,
  BENCH_SECRET,
  BENCH_WEBHOOK_SECRET,
  type BenchServer,
  type BenchServerOptions,
} from './bench-server.js';

/** State of a benchmark document: the last stamp written by each client. */
interface BenchDoc {
  by: Record<string, number>;
}

/** Mutators of the `bdoc` namespace (documents scenario). */
export const benchMutators = defineMutators({
  /** Records client `k`'s stamp `t` (the mutating client's clock, for patch latency). */
  stamp(tx: Transaction<BenchDoc>, args: { k: string; t: number }) {
    tx.draft.by[args.k] = args.t;
  },
});

/**
 * Syncline, embedded mode: in-process broker, history in a SQLite file
 * (WAL); with `webhookUrl`, a `publication` webhook of the `bench` namespace
 * to it (default delivery settings).
 */
export async function startSyncline(options: BenchServerOptions): Promise<BenchServer> {
  const server = createServer({
    port: 0,
    host: '127.0.0.1',
    database: join(options.dataDir, 'syncline.db'),
    auth: { secret: BENCH_SECRET },
    apiKey: BENCH_API_KEY,
    namespaces: { bench: { history: { size: BENCH_HISTORY_SIZE, ttlMs: 10 * 60_000 } } },
    docs: { bdoc: { mutators: benchMutators, initialState: { by: {} } } },
    limits: {
      maxConnectionsPerUser: 1_000_000,
      maxConnectionsPerIp: 1_000_000,
      publishRatePerSec: 1_000_000,
      publishBurst: 1_000_000,
      mutateRatePerSec: 1_000_000,
      mutateBurst: 1_000_000,
      // Every benchmark client mutates as fast as it can: no per-user mutator time cap.
      mutatorMsPerSec: 0,
      // The console scenario subscribes 5,000 channels per connection.
      maxChannelsPerConnection: 5_000,
      // BENCH_MUTATOR_TIMEOUT_MS=0 measures documents without the mutator time budget.
      ...(process.env.BENCH_MUTATOR_TIMEOUT_MS === undefined
        ? {}
        : { mutatorTimeoutMs: Number(process.env.BENCH_MUTATOR_TIMEOUT_MS) }),
    },
    ...(options.admin === true ? { admin: { key: BENCH_ADMIN_KEY } } : {}),
    maxConnections: 1_000_000,
    maxQueueBytes: 64 * 1024 * 1024,
    ...(options.webhookUrl === undefined
      ? {}
      : {
          webhooks: [
            { url: options.webhookUrl, secret: BENCH_WEBHOOK_SECRET, events: ['publication'], namespaces: ['bench'] },
          ],
        }),
  });
  const { port } = await server.listen();
  return {
    url: `ws://127.0.0.1:${port}${WEBSOCKET_PATH}`,
    connections: () => server.connectionCount,
    close: () => server.close(),
  };
}
