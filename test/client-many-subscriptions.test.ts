/**
 * A client that subscribes to many channels at once: the SDK batches at most
 * 100 commands a frame (the server refuses a frame with more), so every
 * subscription is answered.
 */
import { expect, it } from 'vitest';
import { client } from './helpers.js';
import { api, apiServer } from './http-api-helpers.js';

it('subscribes to 1,000 channels at once through the SDK', async () => {
  const server = await apiServer({ limits: { maxChannelsPerConnection: 1_000 } });
  const c = await client(server, 'alice');
  const names = Array.from({ length: 1_000 }, (_, i) => `chat:many-${String(i).padStart(4, '0')}`);
  await Promise.all(names.map((name) => c.subscribe(name).ready));
  const r = await api(server, 'GET', '/v1/channels?prefix=chat:many-&limit=10000');
  expect((r.body.channels as Array<{ channel: string }>).map((e) => e.channel)).toEqual(names);
});
