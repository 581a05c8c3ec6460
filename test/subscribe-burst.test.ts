import { type ClientOptions, type TransportFactory, websocketTransport } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, describeValue, startServer, waitFor, waitForValue } from './helpers.js';

/**
 * The real WebSocket transport, except that frames from the server are held
 * and handed over in bursts, all in one synchronous loop, the way a Node
 * WebSocket emits several messages read in one chunk: no promise callback
 * runs between them.
 */
function burstTransport(windowMs: number): TransportFactory {
  const inner = websocketTransport(WebSocket as unknown as ClientOptions['WebSocket'] & object);
  return async (url, events, codec) => {
    const held: Array<() => void> = [];
    const hold = (fn: () => void): void => {
      // The first frame of a burst starts its window.
      if (held.push(fn) === 1)
        setTimeout(() => {
          for (const f of held.splice(0)) f();
        }, windowMs);
    };
    const t = await inner(
      url,
      {
        onOpen: () => hold(() => events.onOpen()),
        onFrame: (f) => hold(() => events.onFrame(f)),
        onClose: (code, reason) => hold(() => events.onClose(code, reason)),
      },
      codec,
    );
    return { name: 'burst-websocket', send: (f) => t.send(f), close: (c, r) => t.close(c, r) };
  };
}

describe('a subscribe reply and what follows it handled in one burst', () => {
  it('applies patches that are handled before the subscribe reply, and reaches the last version', async () => {
    const server = await startServer({ docs: { race: testDocNamespace() } });
    const writer = await client(server, 'writer');
    const w = writer.doc('race:doc', { mutators: testMutators });
    await w.ready;

    // The reader subscribes while the writer's mutations are applied: the subscribe reply and
    // the patches after it reach the reader in one burst, and nothing comes after them.
    const reader = await client(server, 'reader', { transport: burstTransport(150) });
    await waitForValue(() => reader.state, 'connected', 3_000, 'client state');
    const r = reader.doc('race:doc', { mutators: testMutators });
    await new Promise((res) => setTimeout(res, 5));
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) writes.push(w.mutate.increment({}));
    await Promise.all(writes);
    const final = await server.docs.get('race:doc');
    expect(final.version).toBe(30);
    await waitForValue(
      () => ({ status: r.status, version: r.version }),
      { status: 'synced', version: final.version },
      3_000,
      'reader replica',
    );
    expect((r.current as TestState).count).toBe(30);
  });

  it('delivers publications handled before the channel subscribe reply, contiguously to the last one', async () => {
    const server = await startServer();
    const publisher = await client(server, 'publisher');
    const reader = await client(server, 'reader', { transport: burstTransport(150) });
    await waitForValue(
      () => [reader.state, publisher.state],
      ['connected', 'connected'],
      3_000,
      'client states (reader, publisher)',
    );
    const got: number[] = [];
    const sub = reader.subscribe('chat:burst', { onPublication: (p) => got.push(p.offset) });
    await new Promise((res) => setTimeout(res, 5));
    const sent = await Promise.all(Array.from({ length: 30 }, (_, k) => publisher.publish('chat:burst', { k })));
    await sub.ready;
    const last = Math.max(...sent.map((s) => s.offset));
    await waitFor(
      () => got.at(-1) === last,
      3_000,
      () => `wanted the reader at offset ${last}, saw offsets ${describeValue(got)}`,
    );
    // Every publication after the subscribe point, once and in order.
    const first = got[0] as number;
    expect(got).toEqual(Array.from({ length: last - first + 1 }, (_, i) => first + i));
  });
});
