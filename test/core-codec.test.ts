import type { ReceivedPublication } from '@syncline/client';
import { msgpackCodec, PROTOCOL_VERSION } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  client,
  startServer,
  TEST_CODEC,
  TEST_NAMESPACES,
  TEST_TRANSPORT,
  token,
  waitFor,
  waitForValue,
  waitState,
} from './helpers.js';
import { rawPeer } from './raw-peers.js';

/** Values of every JSON kind, including the edges a binary codec could get wrong. */
const VALUES: unknown[] = [
  'héllo 👋 \u0000 "quoted"',
  { nested: { deep: [1, { x: null }] }, empty: {}, list: [] },
  2 ** 53 - 1,
  -(2 ** 31) - 1,
  1_796_367_142_125,
  -0.5,
  1e-300,
  true,
  null,
  [null, false, 0, ''],
  'x'.repeat(70_000 - 100),
];

describe(`codec (${TEST_CODEC} over ${TEST_TRANSPORT})`, () => {
  it("negotiates the client's codec and carries every JSON value unchanged", async () => {
    const server = await startServer({ maxFrameBytes: 256 * 1024 });
    const a = await client(server, 'alice');
    const got: ReceivedPublication[] = [];
    await a.subscribe('chat:values', { onPublication: (p) => got.push(p) }).ready;
    const codecs = [...server.core.sessions].map((s) => s.codec.name);
    expect(codecs).toEqual([TEST_CODEC]);
    for (const v of VALUES) await a.publish('chat:values', v);
    await waitForValue(
      () => got.map((p) => p.offset),
      VALUES.map((_, i) => i + 1),
      5_000,
      'offsets',
    );
    expect(got.map((p) => p.data)).toEqual(VALUES);
    expect((await a.history('chat:values')).publications.map((p) => p.data)).toEqual(VALUES);
  });

  it('delivers the same publications and presence to JSON and MessagePack clients of one channel', async () => {
    const server = await startServer({
      namespaces: { ...TEST_NAMESPACES, chat: { presence: true, history: { size: 100, ttlMs: 60_000 } } },
      presence: { updateIntervalMs: 20 },
    });
    const viaJson = await client(server, 'alice', { codec: 'json' });
    const viaMsgpack = await client(server, 'bob', { codec: 'msgpack' });
    const got = { json: [] as ReceivedPublication[], msgpack: [] as ReceivedPublication[] };
    await viaJson.subscribe('chat:mixed', { onPublication: (p) => got.json.push(p) }).ready;
    await viaMsgpack.subscribe('chat:mixed', { onPublication: (p) => got.msgpack.push(p) }).ready;
    expect([...server.core.sessions].map((s) => s.codec.name).sort()).toEqual(['json', 'msgpack']);
    for (let i = 0; i < 10; i++) await (i % 2 === 0 ? viaJson : viaMsgpack).publish('chat:mixed', { i, v: VALUES[i] });
    const want = Array.from({ length: 10 }, (_, i) => i + 1);
    await waitForValue(() => got.json.map((p) => p.offset), want, 5_000, 'JSON offsets');
    await waitForValue(() => got.msgpack.map((p) => p.offset), want, 5_000, 'MessagePack offsets');
    const strip = (ps: ReceivedPublication[]) => ps.map(({ offset, data, user, ts }) => ({ offset, data, user, ts }));
    expect(strip(got.msgpack)).toEqual(strip(got.json));

    const pj = viaJson.presence('chat:mixed');
    const pm = viaMsgpack.presence('chat:mixed');
    await pj.enter({ typing: true, at: 2 ** 40 });
    await pm.enter({ typing: false, tags: ['a', 'é'] });
    const members = (p: typeof pj) => () =>
      p.members.current.map((m) => ({ user: m.user, state: m.state })).sort((x, y) => x.user.localeCompare(y.user));
    await waitFor(
      () => members(pj)().length === 2 && members(pm)().length === 2,
      5_000,
      () => `JSON saw ${JSON.stringify(members(pj)())}, MessagePack saw ${JSON.stringify(members(pm)())}`,
    );
    expect(members(pm)()).toEqual(members(pj)());
  });

  it('speaks plain MessagePack to a client without the SDK and refuses frames it cannot read, storing nothing', async () => {
    const server = await startServer();
    const peer = await rawPeer(server.url, TEST_TRANSPORT, msgpackCodec);
    const send = (m: object): Promise<void> => peer.send(msgpackCodec.encode(m) as Uint8Array);
    await send({ type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token: await token('raw') });
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'reply', result: { user: 'raw' } });
    await send({ type: 'subscribe', id: 2, channel: 'chat:raw' });
    await peer.next((m) => m.id === 2);

    // A batch (a MessagePack array) of two commands, then a binary value and a text frame.
    await peer.send(
      msgpackCodec.join([
        msgpackCodec.encode({ type: 'publish', id: 3, channel: 'chat:raw', data: { n: 1 } }),
        msgpackCodec.encode({ type: 'publish', id: 4, channel: 'chat:raw', data: { n: 2 } }),
      ]) as Uint8Array,
    );
    await peer.next((m) => m.id === 4);
    const binary = Buffer.concat([
      Buffer.from([0x84, 0xa4]),
      Buffer.from('type'),
      Buffer.from([0xa7]),
      Buffer.from('publish'),
      Buffer.from([0xa2]),
      Buffer.from('id'),
      Buffer.from([0x05, 0xa7]),
      Buffer.from('channel'),
      Buffer.from([0xa8]),
      Buffer.from('chat:raw'),
      Buffer.from([0xa4]),
      Buffer.from('data'),
      Buffer.from([0xc4, 0x02, 0x01, 0x02]),
    ]);
    await peer.send(new Uint8Array(binary));
    if (TEST_TRANSPORT === 'websocket') {
      const bad = await peer.next((m) => m.type === 'error' && m.code === 'bad_frame');
      expect(bad.message).toBe('The frame is not valid MessagePack.');
      await peer.send('{"type":"publish","id":6,"channel":"chat:raw","data":1}');
      await waitFor(() => peer.messages.filter((m) => m.code === 'bad_frame').length === 2, 5_000, 'second refusal');
    } else {
      // Over HTTP the whole body is refused (400 bad_frame) before any of it is delivered.
      await waitFor(
        () => peer.postStatuses.includes(400),
        5_000,
        () => `POST statuses ${peer.postStatuses}`,
      );
      await peer.send('{"type":"publish","id":6,"channel":"chat:raw","data":1}');
      expect(peer.postStatuses.filter((s) => s === 400)).toHaveLength(2);
    }
    // Nesting: past 64 levels the command is refused with its id; past the decoder's stack the frame is.
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    await send({ type: 'publish', id: 8, channel: 'chat:raw', data: deep });
    expect(await peer.next((m) => m.id === 8)).toMatchObject({ type: 'error', code: 'invalid_command' });
    const head = msgpackCodec.encode({ type: 'publish', id: 9, channel: 'chat:raw', data: 0 }) as Uint8Array;
    const hostile = Buffer.concat([
      Buffer.from(head.subarray(0, head.byteLength - 1)),
      Buffer.alloc(60_000, 0x91),
      Buffer.from([1]),
    ]);
    const before = peer.messages.length;
    await peer.send(new Uint8Array(hostile));
    const refused = (): boolean =>
      TEST_TRANSPORT === 'websocket'
        ? peer.messages.slice(before).some((m) => m.code === 'bad_frame')
        : peer.postStatuses.filter((s) => s === 400).length === 3;
    await waitFor(
      refused,
      5_000,
      () => `messages ${JSON.stringify(peer.messages.slice(before))}, POSTs ${peer.postStatuses}`,
    );
    await send({ type: 'publish', id: 7, channel: 'chat:raw', data: { n: 3 } });
    await peer.next((m) => m.id === 7);
    const pubs = () => peer.messages.filter((m) => m.type === 'pub').map((m) => m.data);
    await waitForValue(pubs, [{ n: 1 }, { n: 2 }, { n: 3 }], 5_000, 'publications');
    const reader = await client(server, 'reader');
    expect((await reader.history('chat:raw')).publications.map((p) => p.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it.runIf(TEST_TRANSPORT === 'websocket' && TEST_CODEC === 'json')(
    'refuses a codec the server does not speak, on every transport',
    async () => {
      const server = await startServer({ codecs: ['json'] });
      for (const path of ['/connect/sse?codec=msgpack', '/connect/sse?codec=cbor']) {
        const res = await fetch(`${server.url}${path}`);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({
          error: { code: 'invalid_request', message: expect.stringContaining('this server speaks json') },
        });
      }
      const poll = await fetch(`${server.url}/connect/poll`, {
        method: 'POST',
        body: '',
        headers: { 'x-syncline-codec': 'msgpack' },
      });
      expect(poll.status).toBe(400);
      await poll.arrayBuffer();

      // A WebSocket client that offers only MessagePack is refused by the handshake (no subprotocol agreed).
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/connect/ws`, ['syncline.msgpack']);
      const outcome = await new Promise<string>((resolve) => {
        ws.once('open', () => resolve(`open:${ws.protocol}`));
        ws.once('error', (err) => resolve(`error:${err.message}`));
      });
      ws.terminate();
      expect(outcome).toMatch(/^error:/);

      // The SDK asked for MessagePack sees the transport fail instead of speaking the wrong format.
      const states: string[] = [];
      const c = await client(server, 'alice', { codec: 'msgpack' });
      c.on('state', (change) => states.push(`${change.state} (${change.reason})`));
      await waitFor(
        () => states.some((s) => s.startsWith('disconnected')),
        5_000,
        () => `states ${states}`,
      );
      expect(states).not.toContain('connected (connected)');
      const fine = await client(server, 'bob', { codec: 'json' });
      await waitState(fine, 'connected');
    },
  );
});
