// One Syncline node's broker for the `broker` scenario: a RedisBroker on a
// Redis Cluster that subscribes to every channel of the run and publishes
// round-robin over them once told to start. Settings come as JSON in
// BENCH_BROKER_NODE; it prints `ready`, waits for `go` on stdin, publishes
// for the given seconds and prints its counts as one JSON line.
import { createInterface } from 'node:readline';
import { RedisBroker } from '@syncline/redis';
import { payloadJson } from './payload.js';

interface Settings {
  readonly seeds: string[];
  readonly prefix: string;
  readonly channels: string[];
  readonly inFlight: number;
  readonly seconds: number;
  readonly node: number;
}

const HISTORY = { size: 100, ttlMs: 600_000 };
const WARMUP_PUBLICATIONS = 300;

const s = JSON.parse(process.env.BENCH_BROKER_NODE ?? '{}') as Settings;
const broker = await RedisBroker.connect({ cluster: s.seeds, prefix: s.prefix });
let delivered = 0;
for (const c of s.channels) {
  await broker.subscribe(c, () => {
    delivered++;
  });
}
const perChannel = new Map<string, number>();
let failed = 0;
let seq = 0;
const publishFor = async (until: () => boolean, count: boolean): Promise<void> => {
  const worker = async (w: number): Promise<void> => {
    let i = w;
    while (until()) {
      const channel = s.channels[i % s.channels.length] as string;
      i += s.inFlight;
      const n = seq++;
      try {
        await broker.publish({
          channel,
          data: JSON.parse(payloadJson(1, n)) as unknown,
          key: `${s.node}:${n}`,
          history: HISTORY,
        });
        if (count) perChannel.set(channel, (perChannel.get(channel) ?? 0) + 1);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: s.inFlight }, (_, w) => worker(w)));
};
let warm = 0;
await publishFor(() => warm++ < WARMUP_PUBLICATIONS, false);
process.stdout.write('ready\n');
const rl = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => rl.once('line', () => resolve()));
const cpu0 = process.cpuUsage();
const deliveredBefore = delivered;
const started = performance.now();
const end = started + s.seconds * 1000;
await publishFor(() => performance.now() < end, true);
const elapsedMs = performance.now() - started;
// Let the last fan-out arrive.
await new Promise((r) => setTimeout(r, 200));
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({
    perChannel: Object.fromEntries(perChannel),
    failed,
    delivered: delivered - deliveredBefore,
    elapsedMs,
    cpuUs: cpu.user + cpu.system,
  })}\n`,
);
rl.close();
await broker.close();
process.exit(0);
