import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClientOptions, createClient, type Subscription, type SynclineClient } from '@syncline/client';
import { errorGroup } from '@syncline/protocol';
import { type ChannelPosition, checkChannelHistory, HistoryRecorder } from '@syncline/testing';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startCli } from './cli/start-cli.js';
import { readChannelHistory, recordSubscription } from './cluster/chaos-channels.js';
import { API_KEY } from './cluster/cluster.js';
import { defer, SECRET, tempDir, token, waitFor } from './helpers.js';

const CHANNELS = ['chat:a', 'chat:b'];
const PUBLISHERS = 8;

/** Writes the JSON config of an embedded node keeping every publication of the `chat` namespace. */
function writeConfig(dir: string): string {
  const file = join(dir, 'syncline.config.json');
  writeFileSync(
    file,
    JSON.stringify({
      auth: { secret: SECRET },
      apiKey: API_KEY,
      namespaces: { chat: { history: { size: 100_000, ttlMs: 600_000 } } },
      limits: { publishRatePerSec: 100_000, publishBurst: 100_000 },
    }),
  );
  return file;
}

/** An SDK client over WebSocket that reconnects fast and gives up on an unanswered request after 4 s; closed after the test. */
async function sdkClient(url: string, user: string): Promise<SynclineClient> {
  const c = createClient({
    url,
    token: await token(user),
    WebSocket: WebSocket as unknown as ClientOptions['WebSocket'] & object,
    transports: ['websocket'],
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
    requestTimeoutMs: 4_000,
  });
  defer(() => c.close());
  return c;
}

/** The `code` of a thrown value, or an empty string. */
function codeOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
}

describe('channel history across a crash of the embedded node', () => {
  it('loses no acknowledged publication when the server is killed with SIGKILL under publishing, and stores none twice', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const first = await startCli(['--data', dir, '--config', config]);
    const port = new URL(first.url).port;
    const rec = new HistoryRecorder();

    const subs: Array<{ channel: string; sub: Subscription }> = [];
    for (const channel of CHANNELS) {
      const c = await sdkClient(first.url, `sub-${channel}`);
      const sub = recordSubscription(rec, c, `sub-${channel}`, channel);
      await sub.ready;
      subs.push({ channel, sub });
    }

    let killed = false;
    let running = true;
    let acked = 0;
    // Publications whose first attempt was sent before the kill and acknowledged after the restart.
    let inFlightAtKill = 0;
    // Offsets each publisher was acknowledged, per channel, in the order it published.
    const ackedOffsets = new Map<string, number[]>();

    const loops = Array.from({ length: PUBLISHERS }, async (_, i) => {
      const name = `pub-${i}`;
      const c = await sdkClient(first.url, name);
      for (let n = 1; running && n <= 100_000; n++) {
        const channel = CHANNELS[n % CHANNELS.length] as string;
        const key = `${name}-${n}`;
        const payload = { from: name, n };
        for (let attempt = 1; attempt <= 100; attempt++) {
          const sentBeforeKill = !killed;
          const h = rec.publishInvoked({ publisher: name, channel, key, payload });
          try {
            const r = await c.publish(channel, payload, { id: key });
            h.acked(r.duplicate === true ? { epoch: r.epoch, offset: r.offset, duplicate: true } : r);
            if (sentBeforeKill && killed) inFlightAtKill++;
            const list = ackedOffsets.get(`${name} ${channel}`) ?? [];
            list.push(r.offset);
            ackedOffsets.set(`${name} ${channel}`, list);
            acked++;
            break;
          } catch (err) {
            const code = codeOf(err);
            if (code === 'timeout' || code === 'request_timeout' || code === 'connection_lost') h.unknown(code);
            else h.failed(code || 'no_code');
            if (errorGroup(code) !== 'retry') throw err;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }
    });

    await waitFor(
      () => acked >= 400,
      20_000,
      () => `wanted 400 acknowledgements before the kill, got ${acked}`,
    );
    killed = true;
    first.proc.kill('SIGKILL');
    await waitFor(() => first.proc.exitCode !== null || first.proc.signalCode !== null, 5_000, 'the process to die');
    const ackedBeforeRestart = acked;

    const second = await startCli(['--data', dir, '--config', config, '--port', port]);
    await waitFor(
      () => acked >= ackedBeforeRestart + 400,
      30_000,
      () => `wanted 400 acknowledgements after the restart, got ${acked - ackedBeforeRestart}`,
    );
    running = false;
    await Promise.all(loops);

    const finals = new Map<string, ChannelPosition>();
    for (const channel of CHANNELS) {
      const f = await readChannelHistory(second.url, channel);
      rec.finalHistory(f);
      finals.set(channel, { epoch: f.epoch, offset: f.offset });
    }
    await waitFor(
      () =>
        subs.every(({ channel, sub }) => {
          const want = finals.get(channel);
          return sub.state === 'subscribed' && sub.position?.offset === want?.offset;
        }),
      20_000,
      () =>
        `subscribers at ${subs.map((s) => `${s.channel}@${s.sub.position?.offset}`).join(', ')}, want ${[...finals].map(([c, p]) => `${c}@${p.offset}`).join(', ')}`,
    );

    const result = checkChannelHistory(rec.history());
    expect(result.ok, result.summary).toBe(true);
    // The epoch survived the crash (the database did), so every acknowledged offset is in one stream.
    for (const [who, offsets] of ackedOffsets) {
      expect(
        offsets.every((o, i) => i === 0 || o > (offsets[i - 1] as number)),
        `${who}: ${offsets.join(',')}`,
      ).toBe(true);
    }
    // The kill fell under publishing: publishes sent before it were answered only after the restart.
    expect(inFlightAtKill).toBeGreaterThan(0);
  }, 90_000);
});
