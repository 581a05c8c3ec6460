import { FANOUT_SLICE_MIN_SINKS } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { connectedRawSocket, describeValue, type RawSocket, startServer, waitFor } from './helpers.js';

const SUBSCRIBERS = FANOUT_SLICE_MIN_SINKS + 88;
const PUBLICATIONS = 300;
const BURST = 50;

/** Offsets of the publications a raw socket received on `channel`, in arrival order. */
function offsets(raw: RawSocket, channel: string): number[] {
  return raw.messages.filter((m) => m.type === 'pub' && m.channel === channel).map((m) => m.offset as number);
}

async function subscribe(raw: RawSocket, channel: string, id: number): Promise<number> {
  raw.send(JSON.stringify({ type: 'subscribe', id, channel }));
  const reply = await raw.next((m) => m.id === id);
  expect(reply.type).toBe('reply');
  return (reply.result as { offset: number }).offset;
}

describe('sliced fan-out of a large channel', () => {
  it('delivers bursts to every subscriber exactly once and in offset order while others join and leave', async () => {
    const server = await startServer();
    const channel = 'chat:big';
    const subs: RawSocket[] = [];
    for (let i = 0; i < SUBSCRIBERS; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, SUBSCRIBERS - i) }, (_, k) => connectedRawSocket(server, `u${i + k}`)),
      );
      await Promise.all(batch.map((raw) => subscribe(raw, channel, 2)));
      subs.push(...batch);
    }
    expect(server.channels.localCounts().get(channel)).toBe(SUBSCRIBERS);

    const leaver = subs[0] as RawSocket;
    let joiner: RawSocket | undefined;
    let joinedAt = 0;
    for (let published = 0; published < PUBLICATIONS; published += BURST) {
      const burst = Array.from({ length: BURST }, (_, k) => server.publish(channel, { n: published + k + 1 }));
      if (published === 100) leaver.send(JSON.stringify({ type: 'unsubscribe', id: 3, channel }));
      if (published === 150) {
        joiner = await connectedRawSocket(server, 'joiner');
        joinedAt = await subscribe(joiner, channel, 2);
      }
      await Promise.all(burst);
    }

    const all = Array.from({ length: PUBLICATIONS }, (_, i) => i + 1);
    await waitFor(
      () => subs.slice(1).every((raw) => offsets(raw, channel).length === PUBLICATIONS),
      30_000,
      () => {
        const short = subs.slice(1).filter((raw) => offsets(raw, channel).length !== PUBLICATIONS);
        return `wanted offsets 1-${PUBLICATIONS} at every subscriber, saw ${short.length} of ${subs.length - 1} short; the first saw ${describeValue(offsets(short[0] as RawSocket, channel))}`;
      },
    );
    for (const raw of subs.slice(1)) expect(offsets(raw, channel)).toEqual(all);
    // The joiner gets exactly what followed its subscribe reply; the leaver a prefix.
    await waitFor(
      () => offsets(joiner as RawSocket, channel).at(-1) === PUBLICATIONS,
      10_000,
      () =>
        `wanted the joiner's last offset ${PUBLICATIONS}, saw offsets ${describeValue(offsets(joiner as RawSocket, channel))}`,
    );
    expect(offsets(joiner as RawSocket, channel)).toEqual(all.slice(joinedAt));
    const left = offsets(leaver, channel);
    expect(left).toEqual(all.slice(0, left.length));
    // Payloads travel intact in batched frames.
    expect(subs[1]?.messages.filter((m) => m.type === 'pub').map((m) => (m.data as { n: number }).n)).toEqual(all);
  });
});
