import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bench', 'dist', 'cli.js');

interface BenchJson {
  results: Array<{
    scenario: string;
    target: string;
    deliveries: number;
    exactlyOnce: boolean;
    lost: number;
    bytesPerDelivery: number;
  }>;
}

describe('benchmark harness', () => {
  // Four targets, each with its own server and generator processes: ~15 s alone, twice that on a busy machine.
  it('runs a 1-second fan-out with 50 subscribers on every target (both Syncline codecs) and verifies exactly-once', async () => {
    if (!existsSync(CLI)) await run('npx', ['tsc', '-b', 'bench'], { cwd: ROOT });
    const out = join(tempDir(), 'results.md');
    await run(
      process.execPath,
      [
        '--expose-gc',
        CLI,
        '--scenario',
        'fanout',
        '--subscribers',
        '50',
        '--publications',
        '20',
        '--seconds',
        '1',
        '--out',
        out,
      ],
      { cwd: ROOT, timeout: 80_000 },
    );
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
});
