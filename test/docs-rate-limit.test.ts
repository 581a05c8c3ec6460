import type { DocReplica } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import { type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, connectedRawSocket, startServer, waitForValue } from './helpers.js';

type Replica = DocReplica<TestState, typeof testMutators>;

const DOCS = { todo: testDocNamespace() };
const RATE = 50;
const BURST = 10;
const LIMITS = { mutateRatePerSec: RATE, mutateBurst: BURST };

function mutateFrame(id: number, doc: string, clientId: string, mutationId: number): string {
  return JSON.stringify({ type: 'doc.mutate', id, doc, clientId, mutationId, name: 'increment', args: {} });
}

describe('document mutation rate limit', () => {
  it('answers rate_limited with retryAfterMs past the burst; the limited id is not used up', async () => {
    const server = await startServer({ docs: DOCS, limits: LIMITS });
    const raw = await connectedRawSocket(server, 'alice');
    const doc = 'todo:raw';
    const cid = 'raw-client-1';
    // One frame-burst of BURST + 1 mutations: the last finds the bucket empty.
    for (let m = 1; m <= BURST + 1; m++) raw.send(mutateFrame(100 + m, doc, cid, m));
    const limited = await raw.next((m) => m.id === 100 + BURST + 1);
    expect(limited).toMatchObject({ type: 'error', code: 'rate_limited' });
    expect(limited.retryAfterMs).toBeGreaterThan(0);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(Math.ceil(1000 / RATE));
    for (let m = 1; m <= BURST; m++) {
      expect(await raw.next((x) => x.id === 100 + m)).toMatchObject({ type: 'reply', result: { version: m } });
    }
    expect((await server.docs.get(doc)).state).toMatchObject({ count: BURST });
    // The same id again after the hint: applied now, not a duplicate.
    await new Promise((r) => setTimeout(r, (limited.retryAfterMs as number) + 5));
    raw.send(mutateFrame(200, doc, cid, BURST + 1));
    const again = await raw.next((m) => m.id === 200);
    expect(again).toMatchObject({ type: 'reply', result: { version: BURST + 1 } });
    expect((again.result as { duplicate?: boolean }).duplicate).toBeUndefined();
    expect((await server.docs.get(doc)).state).toMatchObject({ count: BURST + 1 });
  });

  it('a client far above the limit gets every mutation applied once, in order; another client is served meanwhile', async () => {
    const server = await startServer({ docs: DOCS, limits: LIMITS });
    const fast = await client(server, 'fast');
    const r = fast.doc('todo:flood', { mutators: testMutators }) as Replica;
    await r.ready;
    await waitForValue(() => r.status, 'synced', 5_000, 'replica status');
    const n = 100;
    const started = Date.now();
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) acks.push(r.mutate.addItem({ id: `m${i}`, text: `${i}` }));

    // Meanwhile another connection mutates at once and is never limited.
    const other = await connectedRawSocket(server, 'bob');
    for (let m = 1; m <= 5; m++) other.send(mutateFrame(10 + m, 'todo:other', 'other-client', m));
    for (let m = 1; m <= 5; m++) {
      const reply = await other.next((x) => x.id === 10 + m, 2_000);
      expect(reply).toMatchObject({ type: 'reply', result: { version: m } });
    }
    expect(r.pendingCount).toBeGreaterThan(0);

    await Promise.all(acks);
    const elapsed = Date.now() - started;
    // The bucket allowed BURST at once and RATE per second after that: the flood was held back.
    expect(elapsed).toBeGreaterThanOrEqual(((n - BURST) / RATE) * 1000 * 0.8);
    const final = (await server.docs.get('todo:flood')).state as TestState;
    expect(final.items.map((x) => x.id)).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
    await waitForValue(() => r.status, 'synced', 5_000, 'replica status');
    expect(r.current).toEqual(final);
  });

  it('does not limit HTTP API mutations', async () => {
    const server = await startServer({ docs: DOCS, limits: LIMITS, apiKey: 'k-123456789' });
    const headers = { authorization: 'Bearer k-123456789', 'content-type': 'application/json' };
    const n = BURST * 3;
    const replies = await Promise.all(
      Array.from({ length: n }, () =>
        fetch(`${server.url}/v1/docs/todo:http/mutate`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ name: 'increment', args: {} }),
        }),
      ),
    );
    expect(replies.map((x) => x.status)).toEqual(Array(n).fill(200));
    expect((await server.docs.get('todo:http')).state).toMatchObject({ count: n });
  });
});
