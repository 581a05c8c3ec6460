import { describe, expect, it } from 'vitest';
import type { ClientFrame, ClientTransport, ClientTransportEvents } from '../transport/transport.js';
import { FakeServer } from './fake-server.js';

/** Opens a transport on the fake server by hand and records what it hands back. */
async function openOn(server: FakeServer) {
  const frames: ClientFrame[] = [];
  const closes: Array<[number, string]> = [];
  let opened = false;
  const events: ClientTransportEvents = {
    onOpen: () => {
      opened = true;
    },
    onFrame: (f) => frames.push(f),
    onClose: (code, reason) => closes.push([code, reason]),
  };
  const transport: ClientTransport = await server.transport('http://fake', events, server.codec);
  await expect.poll(() => opened).toBe(true);
  return { transport, frames, closes };
}

describe('FakeServer', () => {
  it('decodes batched frames into typed commands, in order, and takes them by type', async () => {
    const server = new FakeServer();
    const { transport } = await openOn(server);
    transport.send(
      '[{"type":"connect","id":1,"protocol":3},{"type":"pong"},{"type":"subscribe","id":2,"channel":"chat:a"}]',
    );
    const sub = await server.expectCommand('subscribe');
    expect(sub.channel).toBe('chat:a');
    expect((await server.expectCommand('connect')).id).toBe(1);
    expect(server.received.map((r) => [r.command.type, r.connection])).toEqual([
      ['connect', 1],
      ['pong', 1],
      ['subscribe', 1],
    ]);
  });

  it('a missing command fails with what the client sent instead', async () => {
    const server = new FakeServer();
    const { transport } = await openOn(server);
    transport.send('{"type":"subscribe","id":4,"channel":"chat:a"}');
    transport.send('{"type":"nonsense"}');
    await expect(server.expectCommand('publish', 20)).rejects.toThrow(
      'Wanted a "publish" command within 20 ms; saw subscribe#4 (chat:a); invalid frames: unknown_command: Unknown command type "nonsense".',
    );
    expect(server.invalid).toHaveLength(1);
  });

  it('pushes frames, drops the link, and refuses pushes without an open connection', async () => {
    const server = new FakeServer();
    const { frames, closes } = await openOn(server);
    server.push({ type: 'ping' });
    server.reply(3, { ok: true });
    server.drop(4_006, 'heartbeat');
    expect(frames).toEqual(['{"type":"ping"}', '{"type":"reply","id":3,"result":{"ok":true}}']);
    expect(closes).toEqual([[4_006, 'heartbeat']]);
    expect(server.open).toBe(false);
    expect(() => server.push({ type: 'ping' })).toThrow('FakeServer.push: no open connection');
  });

  it('refuses the next connection when told to', async () => {
    const server = new FakeServer();
    server.refuseNextConnection(new Error('nope'));
    await expect(openOn(server)).rejects.toThrow('nope');
    await openOn(server);
    expect(server.connectionCount).toBe(1);
  });
});
