import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WebhookEvent } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { startCli } from './cli/start-cli.js';
import { tempDir, waitFor } from './helpers.js';
import { startReceiver } from './webhooks-receiver.js';

const AUTH_SECRET = 'webhooks-crash-secret-0123456789-abcdefgh';
const API_KEY = 'webhooks-crash-api-key-0123456789';
const HOOK_SECRET = 'webhooks-crash-hook-secret-012345';

async function publishAll(url: string, channel: string, count: number): Promise<void> {
  const publications = Array.from({ length: count }, (_, i) => ({ channel, data: { i } }));
  const res = await fetch(`${url}/v1/publish/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ publications }),
  });
  expect(res.status).toBe(200);
}

function offsets(events: readonly WebhookEvent[], channel: string): number[] {
  return events.filter((e) => e.data.channel === channel).map((e) => Number(e.data.offset));
}

describe('webhooks across a crash', () => {
  it('loses nothing when the server is killed with SIGKILL mid-delivery and restarted on the same data', async () => {
    const dir = tempDir();
    const receiver = await startReceiver();
    // A slow receiver: deliveries are still going on when the process dies.
    receiver.respond = () => new Promise((resolve) => setTimeout(() => resolve(200), 40));
    const config = join(dir, 'syncline.config.mjs');
    writeFileSync(
      config,
      `export default ${JSON.stringify({
        auth: { secret: AUTH_SECRET },
        apiKey: API_KEY,
        namespaces: { chat: { history: { size: 1000, ttlMs: 600_000 } } },
        webhooks: [{ url: receiver.url, secret: HOOK_SECRET, events: ['publication'], namespaces: ['chat'] }],
        webhookDelivery: { retryBaseMs: 100, retryMaxMs: 500, pollIntervalMs: 50, maxBatchEvents: 3, concurrency: 2 },
      })};\n`,
    );
    const total = 100;
    const first = await startCli(['--data', dir, '--config', config]);
    await publishAll(first.url, 'chat:a', total);
    await publishAll(first.url, 'chat:b', total);
    await waitFor(
      () => receiver.unique().length >= 20,
      10_000,
      () => `wanted 20 events before the kill, got ${receiver.unique().length}`,
    );
    first.proc.kill('SIGKILL');
    await waitFor(() => first.proc.exitCode !== null || first.proc.signalCode !== null, 5_000, 'the process to die');
    const beforeRestart = receiver.unique().length;
    expect(beforeRestart).toBeLessThan(2 * total);

    await startCli(['--data', dir, '--config', config]);
    await waitFor(
      () => receiver.unique().length === 2 * total,
      20_000,
      () => `wanted ${2 * total} events after the restart, got ${receiver.unique().length}`,
    );
    const all = Array.from({ length: total }, (_, i) => i + 1);
    // Each event once after dedup on its id, in order per channel.
    expect(offsets(receiver.unique(), 'chat:a')).toEqual(all);
    expect(offsets(receiver.unique(), 'chat:b')).toEqual(all);
    expect(new Set(receiver.unique().map((e) => `${e.data.channel}@${e.data.offset}`)).size).toBe(2 * total);
  }, 60_000);
});
