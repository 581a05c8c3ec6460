import { Rig, type RunOptions } from '../harness.js';
import type { PhaseResult } from '../results.js';

/**
 * Connection rate and memory per idle connection: N connections opened
 * (handshake complete, no subscription) with 100 in flight per generator,
 * in two steps (a third, then the rest); server RSS and heap measured after
 * a full GC before, between and after. Memory per connection is the slope
 * between the two steps: what one more connection costs, without the fixed
 * growth (young generation, compiled code) that every server pays once
 * under load. The average over all N, fixed growth included, is reported too.
 */
export async function runConnect(connections: number, options: RunOptions): Promise<PhaseResult[]> {
  const out: PhaseResult[] = [];
  for (const target of options.targets) {
    options.log(`connect ${connections}: ${target}`);
    const rig = await Rig.start(target, options);
    try {
      const before = await rig.stats(true);
      await rig.mark();
      const first = Math.round(connections / 3);
      const step1 = await rig.open(first, { kind: 'none' }, options);
      const middle = await rig.stats(true);
      const step2 = await rig.open(connections - first, { kind: 'none' }, options, 100, first);
      const during = await rig.stats();
      const after = await rig.stats(true);
      const opened = {
        opened: step1.opened + step2.opened,
        failed: step1.failed + step2.failed,
        ms: step1.ms + step2.ms,
      };
      const n = Math.max(1, opened.opened);
      const m = Math.max(1, step2.opened);
      out.push({
        scenario: 'connect',
        params: `${connections} idle connections`,
        target,
        deliveries: 0,
        durationMs: opened.ms,
        deliveriesPerSec: Number.NaN,
        latencyMs: { p50: Number.NaN, p99: Number.NaN, p999: Number.NaN, max: Number.NaN },
        cpuUsPerDelivery: Number.NaN,
        bytesPerDelivery: Number.NaN,
        loopDelayMs: { p99: during.loopDelayMs.p99, max: during.loopDelayMs.max },
        rssMB: after.rssBytes / 2 ** 20,
        heapMB: after.heapUsedBytes / 2 ** 20,
        lost: 0,
        duplicates: 0,
        unexpected: 0,
        exactlyOnce: opened.failed === 0,
        generatorCpuUsPerDelivery: Number.NaN,
        extra: {
          failed: opened.failed,
          'connections/s': (opened.opened / opened.ms) * 1000,
          'server CPU µs/connection': during.cpuUs / n,
          'RSS KB/connection': (after.rssBytes - middle.rssBytes) / 1024 / m,
          'heap KB/connection': (after.heapUsedBytes - middle.heapUsedBytes) / 1024 / m,
          'RSS KB/connection, average': (after.rssBytes - before.rssBytes) / 1024 / n,
        },
      });
    } finally {
      await rig.stop();
    }
  }
  return out;
}
