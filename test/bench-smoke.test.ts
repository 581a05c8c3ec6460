import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hasChromium } from '../examples/chat/e2e/harness.js';
import { redisClusterService } from './cluster/redis-cluster-env.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bench', 'dist', 'cli.js');

interface WebhookJsonRow {
  mode: string;
  phase: string;
  publications: number;
  complete: boolean;
  cpuUsPerPublication: number;
  receiver?: { events: number; duplicates: number; requests: number; lagMs: { p50: number; p99: number } };
}

interface BenchJson {
  webhook: WebhookJsonRow[];
  brokerShards: Array<{
    shards: number;
    nodes: number;
    publicationsPerSec: number;
    deliveriesPerSec: number;
    redisCpuUsPerPublication: number;
    skew: number;
    failed: number;
  }>;
  consolePages: Array<{ route: string; p50: number; bytes: number }>;
  consoleBrowser: Array<{
    rows: Array<{ page: string; cache: string; median: number; loads: number }>;
    baseline: Array<{ page: string; cache: string; median: number }>;
    assetBytes: number;
  }>;
  consoleImpact: Array<{
    rows: Array<{ metric: string; without: number; with: number }>;
    runs: Array<{ scenario: string; exactlyOnce: boolean; extra: Record<string, unknown> }>;
    traffic: Array<{ requests: number; failures: number; frames: number }>;
  }>;
  results: Array<{
    scenario: string;
    target: string;
    deliveries: number;
    exactlyOnce: boolean;
    lost: number;
    bytesPerDelivery: number;
  }>;
}

/** Runs the bench CLI with `args` into a temporary results file; returns its path. */
async function bench(args: readonly string[], timeoutMs = 80_000): Promise<string> {
  if (!existsSync(CLI)) await run('npx', ['tsc', '-b', 'bench'], { cwd: ROOT });
  const out = join(tempDir(), 'results.md');
  await run(process.execPath, ['--expose-gc', CLI, ...args, '--out', out], { cwd: ROOT, timeout: timeoutMs });
  return out;
}

describe('benchmark harness', () => {
  // Four targets, each with its own server and generator processes: ~15 s alone, twice that on a busy machine.
  it('runs a 1-second fan-out with 50 subscribers on every target (both Syncline codecs) and verifies exactly-once', async () => {
    const out = await bench(['--scenario', 'fanout', '--subscribers', '50', '--publications', '20', '--seconds', '1']);
    const json = JSON.parse(readFileSync(out.replace(/\.md$/, '.json'), 'utf8')) as BenchJson;
    const phases = json.results.map((r) => `${r.scenario}/${r.target}`);
    expect(phases).toEqual([
      'fanout paced/syncline',
      'fanout paced/syncline-msgpack',
      'fanout paced/ws',
      'fanout paced/socketio',
      'fanout burst/syncline',
      'fanout burst/syncline-msgpack',
      'fanout burst/ws',
      'fanout burst/socketio',
    ]);
    for (const r of json.results) {
      expect(r.exactlyOnce, `${r.scenario}/${r.target}`).toBe(true);
      expect(r.lost).toBe(0);
      expect(r.bytesPerDelivery, `${r.scenario}/${r.target}`).toBeGreaterThan(50);
    }
    // 10 paced and 20 burst publications to 50 subscribers.
    expect(json.results.map((r) => r.deliveries)).toEqual([500, 500, 500, 500, 1000, 1000, 1000, 1000]);
    // The same publications are smaller in MessagePack than in JSON.
    const bytes = (scenario: string, target: string): number =>
      json.results.find((r) => r.scenario === scenario && r.target === target)?.bytesPerDelivery ?? Number.NaN;
    expect(bytes('fanout paced', 'syncline-msgpack')).toBeLessThan(bytes('fanout paced', 'syncline'));
    const md = readFileSync(out, 'utf8');
    expect(md).toContain('Syncline / ws');
    expect(md).toContain('Syncline msgpack / Syncline json');
    expect(md).toContain('bytes/delivery');
  }, 90_000);

  it('runs the webhook scenario in its quick form: every publication reaches the subscribers and the receiver once', async () => {
    const out = await bench([
      '--scenario',
      'webhook',
      '--subscribers',
      '20',
      '--rate',
      '50',
      '--seconds',
      '1',
      '--publications',
      '50',
    ]);
    const json = JSON.parse(readFileSync(out.replace(/\.md$/, '.json'), 'utf8')) as BenchJson;
    expect(json.webhook.map((r) => `${r.phase}/${r.mode}/${r.publications}`)).toEqual([
      'paced/none/50',
      'paced/webhook/50',
      'burst/none/50',
      'burst/webhook/50',
    ]);
    for (const r of json.webhook) {
      expect(r.complete, `${r.phase}/${r.mode}`).toBe(true);
      expect(r.cpuUsPerPublication).toBeGreaterThan(0);
      if (r.mode === 'webhook') {
        expect(r.receiver).toMatchObject({ events: 50, duplicates: 0 });
        expect(r.receiver?.requests).toBeGreaterThan(0);
        expect(r.receiver?.lagMs.p99).toBeGreaterThan(0);
      } else expect(r.receiver).toBeUndefined();
    }
    const md = readFileSync(out, 'utf8');
    expect(md).toContain('### webhook paced');
    expect(md).toContain('| webhook / none |');
  }, 90_000);

  it('runs the console scenario in its quick form: every route answers, pages hold what they list', async () => {
    const out = await bench(['--scenario', 'console', '--channels', '300', '--requests', '3']);
    const json = JSON.parse(readFileSync(out.replace(/\.md$/, '.json'), 'utf8')) as BenchJson;
    expect(json.consolePages.map((r) => r.route)).toHaveLength(8);
    for (const r of json.consolePages) {
      expect(r.p50, r.route).toBeGreaterThan(0);
      expect(r.bytes, r.route).toBeGreaterThan(50);
    }
    expect(readFileSync(out, 'utf8')).toContain('### Console pages (300 channels, 300 documents, 3 requests each)');
  }, 90_000);

  it('runs the console-impact scenario in its quick form: connect and fan-out without and with an open console', async () => {
    const out = await bench([
      '--scenario',
      'console-impact',
      '--connections',
      '100',
      '--subscribers',
      '30',
      '--publications',
      '10',
      '--seconds',
      '1',
    ]);
    const json = JSON.parse(readFileSync(out.replace(/\.md$/, '.json'), 'utf8')) as BenchJson;
    const [impact] = json.consoleImpact;
    expect(impact?.runs.map((r) => `${r.scenario}/${r.extra.console}`)).toEqual([
      'connect/no',
      'fanout paced/no',
      'fanout burst/no',
      'connect/yes',
      'fanout paced/yes',
      'fanout burst/yes',
    ]);
    for (const r of impact?.runs ?? []) expect(r.exactlyOnce, r.scenario).toBe(true);
    // One console per server with a console (connect, then fan-out): it signed in, loaded its pages, got snapshots.
    expect(impact?.traffic).toHaveLength(2);
    for (const t of impact?.traffic ?? []) {
      expect(t.failures).toBe(0);
      expect(t.requests).toBeGreaterThanOrEqual(5);
      expect(t.frames).toBeGreaterThan(0);
    }
    for (const row of impact?.rows ?? []) {
      expect(row.without, row.metric).toBeGreaterThan(0);
      expect(row.with, row.metric).toBeGreaterThan(0);
    }
    expect(readFileSync(out, 'utf8')).toContain('| with / without |');
  }, 90_000);

  it.runIf(hasChromium())(
    'runs the console-browser scenario in its quick form: every page shows its content in Chromium, cold and warm',
    async () => {
      const out = await bench(
        ['--scenario', 'console-browser', '--connections', '60', '--docs', '30', '--loads', '1'],
        150_000,
      );
      const json = JSON.parse(readFileSync(out.replace(/\.md$/, '.json'), 'utf8')) as BenchJson;
      const [r] = json.consoleBrowser;
      expect(r?.rows.map((x) => x.cache)).toEqual(Array.from({ length: 10 }, () => ['cold', 'warm']).flat());
      for (const row of r?.rows ?? []) {
        expect(row.loads, row.page).toBe(1);
        expect(row.median, row.page).toBeGreaterThan(0);
      }
      // The baseline, page for page (at this size the server is its own).
      expect(r?.baseline.map((x) => `${x.page}/${x.cache}`)).toEqual(r?.rows.map((x) => `${x.page}/${x.cache}`));
      expect(r?.assetBytes).toBeGreaterThan(10_000);
      expect(readFileSync(out, 'utf8')).toContain('| under 1 s |');
    },
    160_000,
  );

  it.runIf(redisClusterService.available)(
    'runs the broker scenario in its quick form: publications through 1 and 2 Redis Cluster shards reach both nodes',
    async () => {
      const out = await bench([
        '--scenario',
        'broker',
        '--shards',
        '1,2',
        '--seconds',
        '1',
        '--broker-channels',
        '8',
        '--in-flight',
        '4',
      ]);
      const json = JSON.parse(readFileSync(out.replace(/\.md$/, '.json'), 'utf8')) as BenchJson;
      expect(json.brokerShards.map((r) => r.shards)).toEqual([1, 2]);
      for (const r of json.brokerShards) {
        expect(r.failed, `${r.shards} shards`).toBe(0);
        expect(r.publicationsPerSec, `${r.shards} shards`).toBeGreaterThan(0);
        // Every publication reached both subscribed nodes (sharded pub/sub on its shard).
        expect(r.deliveriesPerSec / r.publicationsPerSec, `${r.shards} shards`).toBeCloseTo(2, 1);
        expect(r.redisCpuUsPerPublication, `${r.shards} shards`).toBeGreaterThan(0);
      }
      expect(readFileSync(out, 'utf8')).toContain('### broker');
    },
    90_000,
  );
});
