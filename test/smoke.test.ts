import type { ReceivedPublication } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import { client, startServer, waitFor, waitState } from './helpers.js';

describe('round trip', () => {
  it('subscribes, publishes and receives with increasing offsets', async () => {
    const server = await startServer();
    const a = await client(server, 'alice');
    const b = await client(server, 'bob');
    const got: ReceivedPublication[] = [];
    const sub = a.subscribe('chat:room-1', { onPublication: (p) => got.push(p) });
    await sub.ready;
    await waitState(b, 'connected');
    const r1 = await b.publish('chat:room-1', { text: 'hi' });
    const r2 = await b.publish('chat:room-1', { text: 'there' });
    expect(r2.offset).toBe(r1.offset + 1);
    await waitFor(() => got.length === 2);
    expect(got.map((p) => p.data)).toEqual([{ text: 'hi' }, { text: 'there' }]);
    expect(got.map((p) => p.offset)).toEqual([1, 2]);
    expect(got[0]?.user).toBe('bob');
  });
});
