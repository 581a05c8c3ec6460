import type { ReceivedPublication } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import { client, startServer, token, waitFor, waitForValue } from './helpers.js';

const WINDOW_MS = 300;

async function setup() {
  const server = await startServer({
    namespaces: {
      win: { history: { size: 100, ttlMs: 600_000 }, recoverWindowMs: WINDOW_MS },
      chat: { history: { size: 100, ttlMs: 600_000 } },
    },
  });
  const admin = await client(server, 'admin');
  return { server, admin };
}

/** Subscribes `channel` from `since` with a token limited to `allow`; returns what the subscription saw. */
async function recoverAs(
  server: Awaited<ReturnType<typeof setup>>['server'],
  channel: string,
  allow: ('subscribe' | 'history')[],
  since: { epoch: string; offset: number },
) {
  const c = await client(server, 'reader', { token: await token('reader', [{ match: '*', allow }]) });
  const got: ReceivedPublication[] = [];
  const recovered: boolean[] = [];
  const sub = c.subscribe(channel, {
    since,
    onPublication: (p) => got.push(p),
    onRecovered: (ok) => recovered.push(ok),
  });
  await sub.ready;
  await waitForValue(() => recovered.length, 1, 5_000, `recovered flag count for ${channel}`);
  return { offsets: got.map((p) => p.offset), recovered, position: sub.position };
}

describe('recovery window without the history capability', () => {
  it('a position older than recoverWindowMs is not replayed to a subscribe-only token', async () => {
    const { server, admin } = await setup();
    const acks = [];
    for (let i = 1; i <= 5; i++) acks.push(await admin.publish('win:old', { i }));
    const epoch = acks[0]?.epoch as string;
    const newest = (await admin.history('win:old')).publications.at(-1)?.ts as number;
    await waitFor(() => Date.now() - newest > WINDOW_MS, 5_000, 'the publications to leave the window');

    // Offset 0 ("I have seen nothing") once replayed everything retained with `recovered: true`.
    const plain = await recoverAs(server, 'win:old', ['subscribe'], { epoch, offset: 0 });
    expect(plain).toEqual({ offsets: [], recovered: [false], position: { epoch, offset: 5 } });
    const recent = await recoverAs(server, 'win:old', ['subscribe'], { epoch, offset: 3 });
    expect(recent).toEqual({ offsets: [], recovered: [false], position: { epoch, offset: 5 } });

    // The `history` capability reads back as far as history reaches.
    const reader = await recoverAs(server, 'win:old', ['subscribe', 'history'], { epoch, offset: 0 });
    expect(reader).toEqual({ offsets: [1, 2, 3, 4, 5], recovered: [true], position: { epoch, offset: 5 } });
  });

  it('positions inside the window recover exactly as before, and live publications follow', async () => {
    const { server, admin } = await setup();
    const acks = [];
    for (let i = 1; i <= 4; i++) acks.push(await admin.publish('chat:fresh', { i }));
    const epoch = acks[0]?.epoch as string;
    const c = await client(server, 'reader', { token: await token('reader', [{ match: '*', allow: ['subscribe'] }]) });
    const got: number[] = [];
    const recovered: boolean[] = [];
    await c.subscribe('chat:fresh', {
      since: { epoch, offset: 1 },
      onPublication: (p) => got.push(p.offset),
      onRecovered: (ok) => recovered.push(ok),
    }).ready;
    await admin.publish('chat:fresh', { i: 5 });
    await waitForValue(() => got, [2, 3, 4, 5], 5_000, 'recovered and live offsets');
    expect({ got, recovered }).toEqual({ got: [2, 3, 4, 5], recovered: [true] });
  });
});
