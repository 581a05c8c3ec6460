import { type OutboxDelivery, type OutboxEntry, streamKey, type WebhookOutbox } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { type StoreFactory, type StoreFixture, storeFixture } from './store-fixture.js';

/**
 * A WebhookOutbox implementation under test. Each store it opens has room
 * for `OUTBOX_CONTRACT_MAX_EVENTS` deliveries, knows receivers 0 and 1,
 * claims for `OUTBOX_CONTRACT_LEASE_MS` and reads the count of a shared
 * backend afresh at every add. With `multiNode`, each `open()` on one
 * backend is another node (its own node id).
 */
export type WebhookOutboxFactory = StoreFactory<WebhookOutbox>;

/** Room of the outboxes the contract opens. */
export const OUTBOX_CONTRACT_MAX_EVENTS = 20;
/** Claim lease of the outboxes the contract opens, ms. */
export const OUTBOX_CONTRACT_LEASE_MS = 300;

const T0 = 1_700_000_000_000;
let seq = 0;

function entry(stream: string, endpoints: readonly number[] = [0]): OutboxEntry {
  seq++;
  return {
    event: { id: `evt_${seq}`, type: 'publication', time: new Date(T0).toISOString(), data: { stream, n: seq } },
    stream,
    endpoints,
  };
}

const NONE: ReadonlySet<string> = new Set();

/** The WebhookOutbox contract: the SQLite outbox and every cluster outbox must pass it. */
export function webhookOutboxContract(factory: WebhookOutboxFactory): void {
  describe(`WebhookOutbox contract: ${factory.name}`, () => {
    const { store } = storeFixture(factory);

    it('gives one head per receiver and stream, oldest first, and batches a stream in order', async () => {
      const outbox = await store();
      const entries = [entry('a'), entry('b'), entry('a'), entry('a', [0, 1])];
      expect(await outbox.add(entries, T0)).toBe(0);
      const heads = await outbox.heads(T0, 10, NONE);
      expect(heads.map((h) => [h.endpoint, h.stream])).toEqual([
        [0, 'a'],
        [0, 'b'],
        [1, 'a'],
      ]);
      const batch = await outbox.batch(0, 'a', 10);
      expect(batch.map((d) => d.event.id)).toEqual([entries[0], entries[2], entries[3]].map((e) => e?.event.id));
      expect(
        batch.every((d) => d.status === 'pending' && d.attempts === 0 && JSON.parse(d.json).id === d.event.id),
      ).toBe(true);
      expect((await outbox.batch(0, 'a', 2)).map((d) => d.id)).toEqual(batch.slice(0, 2).map((d) => d.id));
      // Streams in flight are skipped; the limit applies after skipping.
      const skipped = await outbox.heads(T0, 1, new Set([streamKey(0, 'a')]));
      expect(skipped.map((h) => [h.endpoint, h.stream])).toEqual([[0, 'b']]);
    });

    it('moves a stream on only past its delivered or failed head; a retried stream holds back no other', async () => {
      const outbox = await store();
      await outbox.add([entry('a'), entry('a'), entry('b')], T0);
      const [first, second] = await outbox.batch(0, 'a', 10);
      await outbox.retryLater([first?.id ?? 0, second?.id ?? 0], T0 + 1_000, 'HTTP 500');
      // Stream a waits for its retry; stream b is due.
      expect((await outbox.heads(T0 + 10, 10, NONE)).map((h) => h.stream)).toEqual(['b']);
      const due = await outbox.heads(T0 + 1_000, 10, NONE);
      expect(due.map((h) => [h.stream, h.attempts, h.lastError])).toEqual([
        ['b', 0, undefined],
        ['a', 1, 'HTTP 500'],
      ]);
      await outbox.delivered([first?.id ?? 0]);
      expect((await outbox.batch(0, 'a', 10)).map((d) => d.id)).toEqual([second?.id]);
      await outbox.fail([second?.id ?? 0], 'HTTP 500', T0 + 2_000);
      expect(await outbox.batch(0, 'a', 10)).toEqual([]);
      const failed = await outbox.list('failed', 0, 10);
      expect(failed.map((d) => [d.id, d.status, d.lastError])).toEqual([[second?.id, 'failed', 'HTTP 500']]);
      expect((await outbox.list('pending', 0, 10)).map((d) => d.stream)).toEqual(['b']);
    });

    it('retries a failed delivery by hand before the newer events of its stream, with the same event', async () => {
      const outbox = await store();
      await outbox.add([entry('a')], T0);
      const [old] = await outbox.batch(0, 'a', 1);
      await outbox.fail([old?.id ?? 0], 'timeout', T0);
      await outbox.add([entry('a')], T0 + 5);
      const retried = await outbox.retry(old?.id ?? 0, T0 + 10);
      expect([retried?.status, retried?.attempts, retried?.createdAt, retried?.event]).toEqual([
        'pending',
        0,
        T0 + 10,
        old?.event,
      ]);
      const [head] = await outbox.heads(T0 + 10, 10, NONE);
      expect(head?.id).toBe(old?.id);
      expect(await outbox.retry(987_654_321, T0)).toBeUndefined();
      expect(await outbox.list('failed', 0, 10)).toEqual([]);
    });

    it('holds at most its room: past it new deliveries are dropped and counted; pruning makes room', async () => {
      const outbox = await store();
      const many = Array.from({ length: OUTBOX_CONTRACT_MAX_EVENTS + 5 }, () => entry('flood'));
      expect(await outbox.add(many, T0)).toBe(5);
      expect((await outbox.stats()).pending).toBe(OUTBOX_CONTRACT_MAX_EVENTS);
      const ids = (await outbox.batch(0, 'flood', 100)).map((d) => d.id);
      await outbox.fail(ids.slice(0, 4), 'gone', T0);
      expect(await outbox.stats()).toEqual({ pending: OUTBOX_CONTRACT_MAX_EVENTS - 4, failed: 4, oldestPendingAt: T0 });
      // Failed ones older than the retention go; so do the oldest failed while full.
      expect(await outbox.prune(T0 - 1, OUTBOX_CONTRACT_MAX_EVENTS)).toBeGreaterThan(0);
      expect((await outbox.stats()).failed).toBeLessThan(4);
      expect(await outbox.add([entry('flood')], T0)).toBe(0);
      expect(await outbox.prune(T0 + 1, OUTBOX_CONTRACT_MAX_EVENTS)).toBeGreaterThanOrEqual(0);
      expect((await outbox.stats()).failed).toBe(0);
    });

    if (factory.multiNode) multiNodeCases(storeFixture(factory));
  });
}

const ids = (ds: readonly OutboxDelivery[]): number[] => ds.map((d) => d.id);

/** Until `fn` resolves to a non-empty list (a lease lapsing), with a deadline. */
async function untilSome<T>(fn: () => Promise<T[]>, what: string): Promise<T[]> {
  const deadline = Date.now() + 20 * OUTBOX_CONTRACT_LEASE_MS;
  for (;;) {
    const out = await fn();
    if (out.length > 0) return out;
    if (Date.now() > deadline) throw new Error(`wanted ${what} within ${20 * OUTBOX_CONTRACT_LEASE_MS} ms, got none`);
    await new Promise((r) => setTimeout(r, OUTBOX_CONTRACT_LEASE_MS / 5));
  }
}

/**
 * Several nodes on one shared outbox. The rule under test: a stream is sent
 * by the node whose claim names it; the writes of a node whose claim was
 * taken over change nothing, and the new owner starts again from the
 * stream's oldest pending delivery (the same events, in order).
 */
function multiNodeCases({ backend }: StoreFixture<WebhookOutbox>): void {
  it('hands a claimed stream to no other node; after the lease the other takes it over, in order', async () => {
    const b = await backend();
    const [nodeA, nodeB] = [await b.open(), await b.open()];
    await nodeA.add([entry('a'), entry('a'), entry('a')], T0);
    await nodeB.add([entry('b')], T0);
    expect((await nodeA.heads(T0, 1, NONE)).map((h) => h.stream)).toEqual(['a']);
    expect((await nodeB.heads(T0, 10, NONE)).map((h) => h.stream)).toEqual(['b']);
    expect(await nodeB.batch(0, 'a', 10)).toEqual([]);
    const sent = await nodeA.batch(0, 'a', 2);
    await nodeA.delivered([sent[0]?.id ?? 0]);
    // A stops extending its claim (as a killed node would): B takes the stream from its oldest pending delivery.
    const [head] = await untilSome(() => nodeB.heads(T0, 10, new Set([streamKey(0, 'b')])), "B's takeover of a");
    expect(head?.id).toBe(sent[1]?.id);
    // A's late writes change nothing of what B now holds.
    await nodeA.retryLater([sent[1]?.id ?? 0], T0 + 60_000, 'late');
    await nodeA.fail([sent[1]?.id ?? 0], 'late', T0);
    await nodeA.delivered([sent[1]?.id ?? 0]);
    expect(await nodeA.batch(0, 'a', 10)).toEqual([]);
    expect((await nodeA.heads(T0, 10, NONE)).map((h) => h.stream)).not.toContain('a');
    const rest = await nodeB.batch(0, 'a', 10);
    expect(rest.map((d) => [d.status, d.attempts, d.lastError])).toEqual([
      ['pending', 0, undefined],
      ['pending', 0, undefined],
    ]);
    expect(rest[0]?.id).toBe(sent[1]?.id);
    await nodeB.delivered(ids(rest));
    expect((await nodeB.list('pending', 0, 10)).map((d) => d.stream)).toEqual(['b']);
    // A stream delivered to its end is released: its next event goes to whichever node looks first.
    await nodeA.add([entry('a')], T0);
    expect((await nodeA.heads(T0, 10, NONE)).map((h) => h.stream)).toContain('a');
  });

  it('never hands one stream to two nodes looking at once', async () => {
    const b = await backend();
    const [nodeA, nodeB] = [await b.open(), await b.open()];
    const streams = Array.from({ length: 12 }, (_, i) => `s${i}`);
    await nodeA.add(
      streams.map((st) => entry(st)),
      T0,
    );
    const [fromA, fromB] = await Promise.all([nodeA.heads(T0, 12, NONE), nodeB.heads(T0, 12, NONE)]);
    const a = fromA.map((h) => h.stream);
    const bs = fromB.map((h) => h.stream);
    expect(a.filter((st) => bs.includes(st))).toEqual([]);
    // What neither got in that race, a second look hands out.
    const again = [...(await nodeA.heads(T0, 12, NONE)), ...(await nodeB.heads(T0, 12, NONE))];
    expect(new Set([...a, ...bs, ...again.map((h) => h.stream)])).toEqual(new Set(streams));
  });

  it('gives up its claims at close, and counts the bound over every node', async () => {
    const b = await backend();
    const [nodeA, nodeB] = [await b.open(), await b.open()];
    await nodeA.add([entry('c')], T0);
    expect(await nodeA.heads(T0, 10, NONE)).toHaveLength(1);
    expect(await nodeB.heads(T0, 10, NONE)).toEqual([]);
    await nodeA.close();
    expect((await nodeB.heads(T0, 10, NONE)).map((h) => h.stream)).toEqual(['c']);
    const many = Array.from({ length: OUTBOX_CONTRACT_MAX_EVENTS }, () => entry('flood'));
    const nodeC = await b.open();
    // One delivery (c) is held already: 19 more fit, whichever node adds them.
    expect(await nodeC.add(many.slice(0, 15), T0)).toBe(0);
    expect(await nodeB.add(many.slice(15), T0)).toBe(1);
    expect((await nodeB.stats()).pending).toBe(OUTBOX_CONTRACT_MAX_EVENTS);
  });
}
