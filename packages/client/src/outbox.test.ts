import { jsonCodec } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_COMMANDS, Outbox } from './outbox.js';
import type { ClientFrame, ClientTransport } from './transport/transport.js';

describe('Outbox', () => {
  it('batches at most MAX_BATCH_COMMANDS commands a frame, however small they are', async () => {
    const frames: ClientFrame[] = [];
    const transport = { send: (frame: ClientFrame) => frames.push(frame) } as unknown as ClientTransport;
    const outbox = new Outbox(() => transport, jsonCodec);
    for (let i = 0; i < 250; i++) outbox.push({ type: 'subscribe', id: i + 1, channel: `c:${i}` });
    await Promise.resolve();
    const sizes = frames.map((f) => (JSON.parse(f as string) as unknown[]).length);
    expect(sizes).toEqual([MAX_BATCH_COMMANDS, MAX_BATCH_COMMANDS, 50]);
  });
});
