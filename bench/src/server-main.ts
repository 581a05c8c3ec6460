import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isSyncline, type Target } from './clients/bench-conn.js';
import { serveRpc } from './ipc.js';
import type { BenchServer } from './servers/bench-server.js';
import { startSocketIoPeer } from './servers/socketio-peer.js';
import { startSyncline } from './servers/syncline-peer.js';
import { startWsPeer } from './servers/ws-peer.js';

/** What a server process reports about itself. */
export interface ServerStats {
  /** CPU time (user + system) since the last `mark`, µs. */
  readonly cpuUs: number;
  /** The system (kernel) part of `cpuUs`, µs. */
  readonly systemUs: number;
  /** Wall time since the last `mark`, ms. */
  readonly wallMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Event-loop delay since the last `mark`, ms. */
  readonly loopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly connections: number;
}

const target = process.argv[2] as Target;
const recovery = process.argv.includes('--recovery');
const admin = process.argv.includes('--admin');
const webhookAt = process.argv.indexOf('--webhook');
const webhookUrl = webhookAt > 0 ? process.argv[webhookAt + 1] : undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'syncline-bench-'));
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
let server: BenchServer | undefined;
let markCpu = process.cpuUsage();
let markAt = performance.now();

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) for (let i = 0; i < 3; i++) g();
};

serveRpc({
  async start(): Promise<{ url: string; pid: number }> {
    if (isSyncline(target)) server = await startSyncline({ recovery, dataDir, webhookUrl, admin });
    else if (target === 'ws') server = await startWsPeer();
    else server = await startSocketIoPeer({ recovery, dataDir });
    return { url: server.url, pid: process.pid };
  },
  mark(): null {
    markCpu = process.cpuUsage();
    markAt = performance.now();
    loop.reset();
    return null;
  },
  stats(params: { gc?: boolean }): ServerStats {
    if (params.gc) gc();
    const cpu = process.cpuUsage(markCpu);
    const mem = process.memoryUsage();
    return {
      cpuUs: cpu.user + cpu.system,
      systemUs: cpu.system,
      wallMs: performance.now() - markAt,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      loopDelayMs: {
        p50: loop.percentile(50) / 1e6,
        p99: loop.percentile(99) / 1e6,
        max: loop.max / 1e6,
      },
      connections: server?.connections() ?? 0,
    };
  },
  async stop(): Promise<null> {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
    return null;
  },
});
