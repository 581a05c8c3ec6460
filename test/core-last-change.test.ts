import type { StateChange } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import { client, startServer, waitState } from './helpers.js';

describe('client.lastChange', () => {
  it('is undefined before the first transition, then the payload of the last state event', async () => {
    const server = await startServer();
    const c = await client(server, 'alice', { autoConnect: false });
    expect(c.lastChange).toBeUndefined();
    const seen: StateChange[] = [];
    c.on('state', (e) => {
      seen.push(e);
      // Already up to date when listeners run.
      expect(c.lastChange).toBe(e);
    });

    c.connect();
    expect(c.lastChange).toMatchObject({ state: 'connecting', previous: 'disconnected', reason: 'connect_called' });
    await waitState(c, 'connected', 10_000);
    expect(c.lastChange).toMatchObject({ state: 'connected', previous: 'connecting', reason: 'connected' });

    c.disconnect();
    expect(c.lastChange).toMatchObject({ state: 'disconnected', previous: 'connected', reason: 'client_closed' });

    c.close();
    expect(c.lastChange).toMatchObject({ state: 'closed', previous: 'disconnected', reason: 'client_closed' });
    expect(c.lastChange).toBe(seen.at(-1));
    expect(seen.map((e) => e.state)).toEqual(['connecting', 'connected', 'disconnected', 'closed']);
  });

  it('carries the code and retry delay of a scheduled reconnect', async () => {
    const server = await startServer();
    const c = await client(server, 'alice');
    await waitState(c, 'connected', 10_000);
    await server.close();
    await waitState(c, 'disconnected', 10_000);
    const change = c.lastChange;
    // Read in the same tick as `state`: both describe the same transition.
    expect(change?.state).toBe('disconnected');
    expect(change?.previous).not.toBe('disconnected');
    expect(typeof change?.retryInMs).toBe('number');
  });
});
