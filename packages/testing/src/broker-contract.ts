import { SynclineError } from '@syncline/protocol';
import type { Broker, BrokerPublication, HistoryOptions } from '@syncline/server';
import { afterEach, describe, expect, it } from 'vitest';
import { historyBeforeCases } from './broker-backwards-contract.js';
import { eventually, uniqueName } from './wait.js';

/** One isolated backend (a fresh key space, database, or process) for one test. */
export interface BrokerBackend {
  /** A broker connected to this backend: one node. */
  node(): Promise<Broker>;
  /** Makes the backend lose every channel's history and position (e.g. a restart without persistence). */
  loseEverything?(): Promise<void>;
  /** Closes every node and removes what the test stored. */
  close(): Promise<void>;
}

/** An implementation under test and what it supports. */
export interface BrokerFactory {
  readonly name: string;
  /** Whether `node()` may be called more than once to get several nodes sharing one backend. */
  readonly multiNode: boolean;
  /** Whether backends implement `loseEverything`. */
  readonly canLoseEverything: boolean;
  /** A fresh, isolated backend. */
  create(): Promise<BrokerBackend>;
}

const KEEP: HistoryOptions = { size: 100, ttlMs: 600_000 };

interface Collector {
  readonly got: BrokerPublication[];
  readonly listener: (p: BrokerPublication) => void;
}

function collector(): Collector {
  const got: BrokerPublication[] = [];
  return { got, listener: (p) => got.push(p) };
}

function offsets(list: ReadonlyArray<{ offset: number }>): number[] {
  return list.map((p) => p.offset);
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/**
 * The Broker contract: every implementation (embedded and cluster) must pass
 * it. Call inside a vitest test file with a factory of isolated backends.
 */
export function brokerContract(factory: BrokerFactory): void {
  // Tests of capabilities an implementation does not have are not registered.
  const lose = factory.canLoseEverything ? it : undefined;
  describe(`Broker contract: ${factory.name}`, () => {
    let backends: BrokerBackend[] = [];

    afterEach(async () => {
      const list = backends;
      backends = [];
      for (const b of list) await b.close();
    });

    async function backend(): Promise<BrokerBackend> {
      const b = await factory.create();
      backends.push(b);
      return b;
    }

    async function oneNode(): Promise<Broker> {
      return (await backend()).node();
    }

    it('gives a new channel a non-empty, stable epoch at offset 0', async () => {
      const broker = await oneNode();
      const ch = uniqueName('t');
      const a = await broker.top(ch);
      const b = await broker.top(ch);
      expect(a.offset).toBe(0);
      expect(typeof a.epoch).toBe('string');
      expect(a.epoch.length).toBeGreaterThan(0);
      expect(b).toEqual(a);
      const read = await broker.history(ch, { since: 0, limit: 10, history: KEEP });
      expect(read).toEqual({ epoch: a.epoch, offset: 0, minOffset: 0, publications: [] });
    });

    it('assigns offsets 1, 2, 3 … in call order, per channel, in the epoch of the channel', async () => {
      const broker = await oneNode();
      const ch = uniqueName('t');
      const other = uniqueName('t');
      const top = await broker.top(ch);
      const outcomes = await Promise.all(
        range(1, 25).map((i) => broker.publish({ channel: ch, data: { i }, history: KEEP })),
      );
      expect(offsets(outcomes)).toEqual(range(1, 25));
      for (const o of outcomes) {
        expect(o.epoch).toBe(top.epoch);
        expect(o.duplicate).toBe(false);
      }
      const o = await broker.publish({ channel: other, data: 1, history: KEEP });
      expect(o.offset).toBe(1);
      expect(await broker.top(ch)).toEqual({ epoch: top.epoch, offset: 25 });
    });

    it('delivers every publication of a subscribed channel once, in offset order, with its fields', async () => {
      const broker = await oneNode();
      const ch = uniqueName('t');
      const c = collector();
      await broker.subscribe(ch, c.listener);
      const top = await broker.top(ch);
      const values: unknown[] = [{ a: [1, 2, { b: null }] }, 'text', 42, null, [true, false], { 'ü-ñ': '✓' }];
      await Promise.all(
        values.map((data, i) =>
          broker.publish({ channel: ch, data, user: i % 2 === 0 ? `user-${i}` : undefined, history: KEEP }),
        ),
      );
      await eventually(() => c.got.length >= values.length, 'all publications delivered');
      expect(c.got).toHaveLength(values.length);
      expect(offsets(c.got)).toEqual(range(1, values.length));
      c.got.forEach((p, i) => {
        expect(p.channel).toBe(ch);
        expect(p.epoch).toBe(top.epoch);
        expect(p.data).toEqual(values[i]);
        expect(typeof p.ts).toBe('number');
        expect(Math.abs(p.ts - Date.now())).toBeLessThan(60_000);
        if (i % 2 === 0) expect(p.user).toBe(`user-${i}`);
        else expect(p.user).toBeUndefined();
      });
    });

    it('delivers only subscribed channels and stops after unsubscribe', async () => {
      const broker = await oneNode();
      const ch = uniqueName('t');
      const other = uniqueName('t');
      const c = collector();
      await broker.subscribe(ch, c.listener);
      await broker.publish({ channel: other, data: 'x', history: KEEP });
      await broker.publish({ channel: ch, data: 1, history: KEEP });
      await eventually(() => c.got.length === 1, 'first publication');
      await broker.unsubscribe(ch);
      await broker.publish({ channel: ch, data: 2, history: KEEP });
      // A marker on a still-subscribed channel proves delivery has caught up.
      const marker = uniqueName('t');
      const m = collector();
      await broker.subscribe(marker, m.listener);
      await broker.publish({ channel: marker, data: 'm', history: KEEP });
      await eventually(() => m.got.length === 1, 'marker publication');
      expect(c.got.map((p) => p.data)).toEqual([1]);
      expect(c.got.every((p) => p.channel === ch)).toBe(true);
    });

    it('reads history after an offset (exclusive), oldest first, up to a limit', async () => {
      const broker = await oneNode();
      const ch = uniqueName('t');
      for (let i = 1; i <= 10; i++) {
        await broker.publish({ channel: ch, data: { i }, user: i === 3 ? 'carol' : undefined, history: KEEP });
      }
      const all = await broker.history(ch, { since: 0, limit: 100, history: KEEP });
      expect(all.offset).toBe(10);
      expect(all.minOffset).toBe(1);
      expect(offsets(all.publications)).toEqual(range(1, 10));
      expect(all.publications[2]?.user).toBe('carol');
      expect(all.publications[3]?.user).toBeUndefined();
      expect(all.publications[4]?.data).toEqual({ i: 5 });
      const part = await broker.history(ch, { since: 4, limit: 3, history: KEEP });
      expect(offsets(part.publications)).toEqual([5, 6, 7]);
      expect(part.offset).toBe(10);
      const none = await broker.history(ch, { since: 10, limit: 5, history: KEEP });
      expect(none.publications).toEqual([]);
      const beyond = await broker.history(ch, { since: 50, limit: 5, history: KEEP });
      expect(beyond.publications).toEqual([]);
      expect(beyond.offset).toBe(10);
    });

    historyBeforeCases(oneNode);

    it('reading the top of a channel leaves its history alone', async () => {
      const broker = await oneNode();
      const ch = uniqueName('t');
      for (let i = 1; i <= 3; i++) await broker.publish({ channel: ch, data: i, history: KEEP });
      const top = await broker.top(ch);
      expect(top.offset).toBe(3);
      await broker.top(ch);
      const read = await broker.history(ch, { since: 0, limit: 10, history: KEEP });
      expect(offsets(read.publications)).toEqual([1, 2, 3]);
      expect(read.minOffset).toBe(1);
    });

    it('keeps at most `size` publications per channel', async () => {
      const broker = await oneNode();
      const ch = uniqueName('t');
      const small: HistoryOptions = { size: 5, ttlMs: 600_000 };
      for (let i = 1; i <= 12; i++) await broker.publish({ channel: ch, data: i, history: small });
      const read = await broker.history(ch, { since: 0, limit: 100, history: small });
      expect(read.offset).toBe(12);
      expect(read.minOffset).toBe(8);
      expect(offsets(read.publications)).toEqual(range(8, 12));
    });

    it('allocates offsets but keeps nothing when size is 0 (keys are still deduped within the TTL)', async () => {
      const broker = await oneNode();
      const ch = uniqueName('t');
      const none: HistoryOptions = { size: 0, ttlMs: 600_000 };
      const c = collector();
      await broker.subscribe(ch, c.listener);
      const a = await broker.publish({ channel: ch, data: 1, key: 'k', history: none });
      const b = await broker.publish({ channel: ch, data: 2, key: 'k2', history: none });
      const again = await broker.publish({ channel: ch, data: 1, key: 'k', history: none });
      expect([a.offset, b.offset]).toEqual([1, 2]);
      expect(b.duplicate).toBe(false);
      expect(again).toEqual({ offset: 1, epoch: a.epoch, duplicate: true });
      await eventually(() => c.got.length === 2, 'both delivered');
      const read = await broker.history(ch, { since: 0, limit: 10, history: none });
      expect(read.offset).toBe(2);
      expect(read.minOffset).toBe(0);
      expect(read.publications).toEqual([]);
    });

    it('drops publications older than the TTL from history but keeps the position', async () => {
      const broker = await oneNode();
      const ch = uniqueName('t');
      const short: HistoryOptions = { size: 100, ttlMs: 300 };
      const top = await broker.top(ch);
      await broker.publish({ channel: ch, data: 1, history: short });
      await broker.publish({ channel: ch, data: 2, history: short });
      const fresh = await broker.history(ch, { since: 0, limit: 10, history: short });
      expect(offsets(fresh.publications)).toEqual([1, 2]);
      await eventually(
        async () => (await broker.history(ch, { since: 0, limit: 10, history: short })).publications.length === 0,
        'publications to expire',
        10_000,
      );
      const read = await broker.history(ch, { since: 0, limit: 10, history: short });
      expect(read.minOffset).toBe(0);
      expect(read.offset).toBe(2);
      expect(read.epoch).toBe(top.epoch);
      const next = await broker.publish({ channel: ch, data: 3, history: short });
      expect(next.offset).toBe(3);
      expect(next.epoch).toBe(top.epoch);
    });

    it('dedupes a key within retained history and does not deliver the duplicate', async () => {
      const broker = await oneNode();
      const ch = uniqueName('t');
      const other = uniqueName('t');
      const c = collector();
      await broker.subscribe(ch, c.listener);
      const first = await broker.publish({ channel: ch, data: 'a', key: 'u:bob:1', history: KEEP });
      await broker.publish({ channel: ch, data: 'b', history: KEEP });
      const again = await broker.publish({ channel: ch, data: 'a-resent', key: 'u:bob:1', history: KEEP });
      expect(again).toEqual({ offset: first.offset, epoch: first.epoch, duplicate: true });
      const otherKey = await broker.publish({ channel: ch, data: 'c', key: 'u:bob:2', history: KEEP });
      expect(otherKey.offset).toBe(3);
      const otherChannel = await broker.publish({ channel: other, data: 'a', key: 'u:bob:1', history: KEEP });
      expect(otherChannel).toMatchObject({ offset: 1, duplicate: false });
      await eventually(() => c.got.length >= 3, 'deliveries');
      const read = await broker.history(ch, { since: 0, limit: 10, history: KEEP });
      expect(read.publications.map((p) => p.data)).toEqual(['a', 'b', 'c']);
      expect(c.got.map((p) => p.data)).toEqual(['a', 'b', 'c']);
    });

    it('forgets a key once its publication left the retained history', async () => {
      const broker = await oneNode();
      const ch = uniqueName('t');
      const small: HistoryOptions = { size: 2, ttlMs: 600_000 };
      const first = await broker.publish({ channel: ch, data: 'a', key: 'k1', history: small });
      await broker.publish({ channel: ch, data: 'b', history: small });
      await broker.publish({ channel: ch, data: 'c', history: small });
      const again = await broker.publish({ channel: ch, data: 'a', key: 'k1', history: small });
      expect(first.offset).toBe(1);
      expect(again).toMatchObject({ offset: 4, duplicate: false });
    });

    it('rejects publish after close with a retryable error', async () => {
      const broker = await oneNode();
      await broker.close();
      const err = await broker.publish({ channel: uniqueName('t'), data: 1, history: KEEP }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SynclineError);
      expect((err as SynclineError).group).toBe('retry');
    });

    lose?.('changes the epoch when the backend lost the channel', async () => {
      const b = await backend();
      const broker = await b.node();
      const ch = uniqueName('t');
      const before = await broker.publish({ channel: ch, data: 1, history: KEEP });
      await b.loseEverything?.();
      const top = await broker.top(ch);
      expect(top.epoch).not.toBe(before.epoch);
      const after = await broker.publish({ channel: ch, data: 2, history: KEEP });
      expect(after.epoch).toBe(top.epoch);
      const read = await broker.history(ch, { since: 0, limit: 10, history: KEEP });
      expect(read.epoch).toBe(top.epoch);
      expect(read.publications.map((p) => p.data)).toEqual([2]);
    });

    if (factory.multiNode)
      describe('across nodes', () => {
        it('delivers publications of every node to every subscribed node once, in offset order', async () => {
          const b = await backend();
          const nodes = [await b.node(), await b.node(), await b.node()];
          const ch = uniqueName('t');
          const cols = nodes.map(() => collector());
          await Promise.all(nodes.map((n, i) => n.subscribe(ch, (cols[i] as Collector).listener)));
          const perNode = 30;
          const outcomes = await Promise.all(
            nodes.flatMap((n, i) =>
              range(1, perNode).map((j) => n.publish({ channel: ch, data: { node: i, j }, history: KEEP })),
            ),
          );
          const total = perNode * nodes.length;
          expect(offsets(outcomes).sort((x, y) => x - y)).toEqual(range(1, total));
          for (const c of cols) {
            await eventually(() => c.got.length >= total, 'every node receives everything');
            expect(offsets(c.got)).toEqual(range(1, total));
          }
          // Each publisher's own publications keep their call order.
          for (let i = 0; i < nodes.length; i++) {
            const mine = (cols[0] as Collector).got.filter((p) => (p.data as { node: number }).node === i);
            expect(mine.map((p) => (p.data as { j: number }).j)).toEqual(range(1, perNode));
          }
          const read = await (nodes[1] as Broker).history(ch, { since: 0, limit: 1000, history: KEEP });
          expect(offsets(read.publications)).toEqual(range(1, total));
        });

        it('shares epochs, tops and idempotency keys between nodes', async () => {
          const b = await backend();
          const [x, y] = [await b.node(), await b.node()];
          const ch = uniqueName('t');
          const t1 = await x.top(ch);
          const t2 = await y.top(ch);
          expect(t2).toEqual(t1);
          const first = await x.publish({ channel: ch, data: 1, key: 'k', history: KEEP });
          const dup = await y.publish({ channel: ch, data: 1, key: 'k', history: KEEP });
          expect(dup).toEqual({ offset: first.offset, epoch: first.epoch, duplicate: true });
          expect(await y.top(ch)).toEqual({ epoch: t1.epoch, offset: 1 });
        });
      });
  });
}
