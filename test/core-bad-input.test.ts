import type { ReceivedPublication } from '@syncline/client';
import { CLOSE_CODES, ERROR_CODES } from '@syncline/protocol';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import {
  client,
  connectedRawSocket,
  type RawSocket,
  rawSocket,
  startServer,
  token,
  waitForValue,
  waitState,
} from './helpers.js';

const MAX_FRAME_BYTES = 2_048;

/** A server plus a healthy subscriber that must be unaffected by anything a bad peer sends. */
async function setup() {
  const server = await startServer({ maxFrameBytes: MAX_FRAME_BYTES });
  const good = await client(server, 'good');
  const got: ReceivedPublication[] = [];
  await good.subscribe('chat:a', { onPublication: (p) => got.push(p) }).ready;
  return { server, good, got };
}

/** The healthy client still round-trips, and nothing the bad peer sent was stored. */
async function assertUnaffected(ctx: Awaited<ReturnType<typeof setup>>, channels: string[] = ['chat:a']) {
  for (const ch of channels) {
    if (ch === 'chat:a') continue;
    expect((await ctx.good.history(ch)).offset).toBe(0);
  }
  const r = await ctx.good.publish('chat:a', 'healthy');
  expect(r.offset).toBe(1);
  await waitState(ctx.good, 'connected');
  await waitForValue(() => ctx.got.map((p) => p.data), ['healthy'], 5_000, 'publication data');
  expect(ctx.got.map((p) => p.data)).toEqual(['healthy']);
}

async function errorFor(raw: RawSocket, frame: string | Buffer, pred: (m: Record<string, unknown>) => boolean) {
  const before = raw.messages.length;
  raw.send(frame);
  return raw.next((m) => raw.messages.indexOf(m) >= before && m.type === 'error' && pred(m));
}

describe('bad input on a connected socket', () => {
  it('answers each malformed frame with its documented code and keeps the connection', async () => {
    const ctx = await setup();
    const raw = await connectedRawSocket(ctx.server, 'bad');
    const cases: Array<[string, string | Buffer, string, number | undefined]> = [
      ['not JSON', 'hello {', 'bad_frame', undefined],
      ['a JSON number', '42', 'bad_frame', undefined],
      ['null', 'null', 'bad_frame', undefined],
      ['an array of non-objects', '[1]', 'bad_frame', undefined],
      ['unknown command', JSON.stringify({ type: 'fly', id: 5 }), 'unknown_command', 5],
      ['missing type', JSON.stringify({ id: 6 }), 'unknown_command', 6],
      ['channel of wrong type', JSON.stringify({ type: 'publish', id: 7, channel: 42, data: 1 }), 'invalid_command', 7],
      [
        'id of wrong type',
        JSON.stringify({ type: 'publish', id: 'x', channel: 'chat:a', data: 1 }),
        'invalid_command',
        undefined,
      ],
      // An invalid id is never echoed: the error carries no id.
      ['negative id', JSON.stringify({ type: 'history', id: -1, channel: 'chat:a' }), 'invalid_command', undefined],
      ['zero id', JSON.stringify({ type: 'history', id: 0, channel: 'chat:a' }), 'invalid_command', undefined],
      ['fractional id', JSON.stringify({ type: 'history', id: 1.5, channel: 'chat:a' }), 'invalid_command', undefined],
      ['negative id, unknown command', JSON.stringify({ type: 'fly', id: -3 }), 'unknown_command', undefined],
      [
        'since of wrong shape',
        JSON.stringify({ type: 'subscribe', id: 8, channel: 'chat:b', since: { epoch: 1, offset: 'x' } }),
        'invalid_command',
        8,
      ],
      [
        'limit out of range',
        JSON.stringify({ type: 'history', id: 9, channel: 'chat:a', limit: 1e9 }),
        'invalid_command',
        9,
      ],
      [
        'key too long',
        JSON.stringify({ type: 'publish', id: 10, channel: 'chat:a', data: 1, key: 'k'.repeat(200) }),
        'invalid_command',
        10,
      ],
      [
        'malformed channel',
        JSON.stringify({ type: 'publish', id: 11, channel: 'no spaces:x', data: 1 }),
        'bad_channel',
        11,
      ],
      ['channel without namespace', JSON.stringify({ type: 'subscribe', id: 12, channel: 'plain' }), 'bad_channel', 12],
      [
        'unknown namespace',
        JSON.stringify({ type: 'publish', id: 13, channel: 'nope:x', data: 1 }),
        'unknown_namespace',
        13,
      ],
      ['connect twice', JSON.stringify({ type: 'connect', id: 14, protocol: 1, token: 'x' }), 'already_connected', 14],
      [
        'unsubscribe without subscribe',
        JSON.stringify({ type: 'unsubscribe', id: 15, channel: 'chat:a' }),
        'not_subscribed',
        15,
      ],
      [
        'oversize frame',
        JSON.stringify({ type: 'publish', id: 16, channel: 'chat:a', data: 'x'.repeat(MAX_FRAME_BYTES) }),
        'frame_too_large',
        16,
      ],
      [
        'too many commands in one frame',
        JSON.stringify(Array.from({ length: 101 }, () => ({ type: 'ping' }))),
        'bad_frame',
        undefined,
      ],
    ];
    for (const [what, frame, code, id] of cases) {
      const e = await errorFor(raw, frame, (m) => m.code === code && m.id === id).catch((err: unknown) => {
        throw new Error(`${what}: got ${JSON.stringify(raw.messages.slice(-2))}`, { cause: err });
      });
      expect(e, what).toMatchObject({ type: 'error', code });
      expect(typeof e.message, what).toBe('string');
      expect(Object.hasOwn(ERROR_CODES, code)).toBe(true);
    }
    // A batch mixing good and bad commands: each answered on its own.
    raw.send(
      JSON.stringify([
        { type: 'publish', id: 20, channel: 'chat:b', data: 'ok' },
        { type: 'publish', id: 21, channel: 7 },
        { type: 'nonsense', id: 22 },
      ]),
    );
    expect(await raw.next((m) => m.id === 20)).toMatchObject({ type: 'reply', result: { offset: 1 } });
    expect(await raw.next((m) => m.id === 21)).toMatchObject({ code: 'invalid_command' });
    expect(await raw.next((m) => m.id === 22)).toMatchObject({ code: 'unknown_command' });

    expect(raw.closed).toBeUndefined();
    raw.send(JSON.stringify({ type: 'history', id: 30, channel: 'chat:b' }));
    const h = await raw.next((m) => m.id === 30);
    expect((h.result as { publications: Array<{ data: unknown }> }).publications.map((p) => p.data)).toEqual(['ok']);
    await assertUnaffected(ctx, ['chat:a']);
  });

  it('closes with 1009 on a frame far above the limit, and everyone else keeps working', async () => {
    const ctx = await setup();
    const raw = await connectedRawSocket(ctx.server, 'huge');
    const big = JSON.stringify({ type: 'publish', id: 2, channel: 'chat:a', data: 'x'.repeat(1_100_000) });
    raw.send(big);
    expect((await raw.waitClosed()).code).toBe(CLOSE_CODES.FRAME_TOO_LARGE.code);
    await assertUnaffected(ctx);
  });
});

describe('frame size through the SDK', () => {
  it('rejects an oversize publish with frame_too_large, not a timeout, and splits big batches', async () => {
    const ctx = await setup();
    const c = await client(ctx.server, 'sdk', { requestTimeoutMs: 20_000 });
    const started = Date.now();
    await expect(c.publish('chat:a', 'x'.repeat(MAX_FRAME_BYTES))).rejects.toMatchObject({
      name: 'SynclineError',
      code: 'frame_too_large',
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    // Twenty publish commands, all made in one tick (raw requests: `client.publish` sends one at a time per
    // channel), so they are batched past the frame limit: each fits, so each succeeds.
    const many = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        c.request({ type: 'publish', channel: 'chat:b', data: `${i}`.padEnd(500, '.'), key: `k${i}` }),
      ),
    );
    expect(many.map((r) => r.offset).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(c.state).toBe('connected');
    await assertUnaffected(ctx);
  });
});

describe('bad input before connect', () => {
  async function refused(server: SynclineServer, frame: string, code: string) {
    const raw = await rawSocket(server);
    raw.send(frame);
    expect(await raw.next((m) => m.type === 'error')).toMatchObject({ code });
    expect((await raw.waitClosed()).code).toBe(CLOSE_CODES.PROTOCOL_ERROR.code);
  }

  it('closes with PROTOCOL_ERROR when the first frame is not a valid connect', async () => {
    const ctx = await setup();
    await refused(
      ctx.server,
      JSON.stringify({ type: 'publish', id: 1, channel: 'chat:a', data: 'x' }),
      'not_connected',
    );
    await refused(ctx.server, JSON.stringify({ type: 'subscribe', id: 1, channel: 'chat:a' }), 'not_connected');
    await refused(ctx.server, 'garbage', 'bad_frame');
    await refused(ctx.server, JSON.stringify({ type: 'connect', id: 1, protocol: 'one' }), 'invalid_command');
    await refused(ctx.server, JSON.stringify({ type: 'teleport', id: 1 }), 'unknown_command');
    await refused(
      ctx.server,
      JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: 'x'.repeat(MAX_FRAME_BYTES) }),
      'frame_too_large',
    );
    await assertUnaffected(ctx);
  });

  it('refuses an unsupported protocol version with its close code', async () => {
    const ctx = await setup();
    const raw = await rawSocket(ctx.server);
    raw.send(JSON.stringify({ type: 'connect', id: 1, protocol: 99, token: await token('x') }));
    expect(await raw.next((m) => m.id === 1)).toMatchObject({
      code: 'unsupported_protocol',
      details: { min: 1, max: 3 },
    });
    expect((await raw.waitClosed()).code).toBe(CLOSE_CODES.UNSUPPORTED_PROTOCOL.code);
  });

  it('processes commands batched after connect in the same frame once connected', async () => {
    const ctx = await setup();
    const raw = await rawSocket(ctx.server);
    raw.send(
      JSON.stringify([
        { type: 'connect', id: 1, protocol: 1, token: await token('batch') },
        { type: 'publish', id: 2, channel: 'chat:a', data: 'batched' },
      ]),
    );
    expect(await raw.next((m) => m.id === 1)).toMatchObject({ type: 'reply' });
    expect(await raw.next((m) => m.id === 2)).toMatchObject({ type: 'reply', result: { offset: 1 } });
  });
});
