import { type OutboxEntry, streamKey, type WebhookOutbox } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { type StoreFactory, storeFixture } from './store-fixture.js';

/**
 * A WebhookOutbox implementation under test. Each store it opens has room
 * for `OUTBOX_CONTRACT_MAX_EVENTS` deliveries and knows receivers 0 and 1.
 */
export type WebhookOutboxFactory = StoreFactory<WebhookOutbox>;

/** Room of the outboxes the contract opens. */
export const OUTBOX_CONTRACT_MAX_EVENTS = 20;

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
      expect(outbox.add(entries, T0)).toBe(0);
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
      outbox.add([entry('a'), entry('a'), entry('b')], T0);
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
      outbox.add([entry('a')], T0);
      const [old] = await outbox.batch(0, 'a', 1);
      await outbox.fail([old?.id ?? 0], 'timeout', T0);
      outbox.add([entry('a')], T0 + 5);
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
      expect(outbox.add(many, T0)).toBe(5);
      expect((await outbox.stats()).pending).toBe(OUTBOX_CONTRACT_MAX_EVENTS);
      const ids = (await outbox.list('pending', 0, 100)).map((d) => d.id);
      await outbox.fail(ids.slice(0, 4), 'gone', T0);
      expect(await outbox.stats()).toEqual({ pending: OUTBOX_CONTRACT_MAX_EVENTS - 4, failed: 4, oldestPendingAt: T0 });
      // Failed ones older than the retention go; so do the oldest failed while full.
      expect(await outbox.prune(T0 - 1, OUTBOX_CONTRACT_MAX_EVENTS)).toBeGreaterThan(0);
      expect((await outbox.stats()).failed).toBeLessThan(4);
      expect(outbox.add([entry('flood')], T0)).toBe(0);
      expect(await outbox.prune(T0 + 1, OUTBOX_CONTRACT_MAX_EVENTS)).toBeGreaterThanOrEqual(0);
      expect((await outbox.stats()).failed).toBe(0);
    });
  });
}
