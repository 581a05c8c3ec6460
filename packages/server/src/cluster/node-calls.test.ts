import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker, BrokerListener } from '../broker/broker.js';
import { LocalBroker } from '../broker/local-broker.js';
import { openDatabase } from '../storage/sqlite.js';
import { SqliteHistory } from '../storage/sqlite-history.js';
import { NodeBus } from './node-bus.js';
import { NodeCalls } from './node-calls.js';
import { NodeRegistry } from './node-registry.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/**
 * One in-process broker shared by several nodes: each node gets a view whose
 * subscriptions fan out from the single listener the broker keeps per channel.
 */
function sharedBroker(inner: LocalBroker): () => Broker {
  const listeners = new Map<string, Set<BrokerListener>>();
  return () => {
    const mine = new Map<string, BrokerListener>();
    return {
      publish: (input) => inner.publish(input),
      async subscribe(channel, listener) {
        let set = listeners.get(channel);
        if (!set) {
          const all = new Set<BrokerListener>();
          set = all;
          listeners.set(channel, all);
          await inner.subscribe(channel, (pub) => {
            for (const l of all) l(pub);
          });
        }
        mine.set(channel, listener);
        set.add(listener);
      },
      async unsubscribe(channel) {
        const l = mine.get(channel);
        if (l) listeners.get(channel)?.delete(l);
        mine.delete(channel);
      },
      history: (channel, options) => inner.history(channel, options),
      historyBefore: (channel, options) => inner.historyBefore(channel, options),
      top: (channel) => inner.top(channel),
      async close() {
        for (const channel of [...mine.keys()]) await this.unsubscribe(channel);
      },
    };
  };
}

/** Nodes sharing one in-process broker: the bus of a cluster without Redis. */
function cluster(): (id: string) => { calls: NodeCalls; registry: NodeRegistry } {
  const db = openDatabase(':memory:');
  const inner = new LocalBroker(new SqliteHistory(db));
  const view = sharedBroker(inner);
  cleanups.push(async () => {
    await inner.close();
    db.close();
  });
  return (id) => {
    const bus = new NodeBus({ broker: view(), nodeId: id, logger, clustered: true });
    const registry = new NodeRegistry({ bus, logger, heartbeatMs: 60_000, ttlMs: 120_000 });
    cleanups.push(() => registry.close());
    return { calls: new NodeCalls({ bus, registry, nodeId: id, logger }), registry };
  };
}

/** Lets the in-process broker deliver what is queued. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('NodeCalls and NodeRegistry', () => {
  it('a node learns its peers from their hello, gathers every reply, and forgets a peer that says bye', async () => {
    const node = cluster();
    const a = node('a');
    const b = node('b');
    await a.registry.start();
    await b.registry.start();
    const c = node('c');
    await c.registry.start();
    await settle();
    // c learned a and b from their answers to its hello, without a heartbeat.
    expect(c.registry.live().sort()).toEqual(['a', 'b']);
    b.calls.serve('$test', (body) => `b saw ${String(body.x)}`);
    c.calls.serve('$test', (body) => `c saw ${String(body.x)}`);
    await settle();
    const r = await a.calls.call('$test', { x: 1 }, 5_000);
    expect(r.expected).toBe(2);
    expect([...r.replies].sort()).toEqual([
      ['b', 'b saw 1'],
      ['c', 'c saw 1'],
    ]);
    await c.registry.close();
    await settle();
    expect(a.registry.live()).toEqual(['b']);
  });

  it('a call to a peer that never replies ends after the wait with what came back', async () => {
    const node = cluster();
    const a = node('a');
    const silent = node('silent');
    await a.registry.start();
    await silent.registry.start();
    await settle();
    const start = Date.now();
    const r = await a.calls.call('$test', { x: 1 }, 150);
    const took = Date.now() - start;
    expect(r).toEqual({ replies: new Map(), expected: 1, missing: ['silent'] });
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1_000);
  });

  it('on a single node a call resolves at once with no peers', async () => {
    const db = openDatabase(':memory:');
    const broker = new LocalBroker(new SqliteHistory(db));
    cleanups.push(async () => {
      await broker.close();
      db.close();
    });
    const bus = new NodeBus({ broker, nodeId: 'solo', logger, clustered: false });
    const registry = new NodeRegistry({ bus, logger, heartbeatMs: 1_000, ttlMs: 3_000 });
    await registry.start();
    const calls = new NodeCalls({ bus, registry, nodeId: 'solo', logger });
    expect(await calls.call('$test', {}, 10_000)).toEqual({ replies: new Map(), expected: 0, missing: [] });
  });

  it('gather keeps the valid replies, names the nodes that gave none, and counts this node', async () => {
    const node = cluster();
    const a = node('a');
    const nodes = ['b', 'c', 'd'].map((id) => ({ id, ...node(id) }));
    for (const n of [a, ...nodes]) await n.registry.start();
    await settle();
    nodes[0]?.calls.serve('$test', () => 2);
    nodes[1]?.calls.serve('$test', () => 'not a count');
    // d serves nothing: it never replies.
    await settle();
    const parse = (r: unknown): number | undefined => (typeof r === 'number' ? r : undefined);
    const r = await a.calls.gather('$test', {}, { waitMs: 150, parse });
    expect(r).toEqual({
      replies: new Map([['b', 2]]),
      nodes: { answered: 2, expected: 4 },
      partial: true,
      missing: expect.arrayContaining(['c', 'd']),
    });
    expect(r.missing).toHaveLength(2);
  });

  it('gather with enough ends the wait at the first reply it accepts', async () => {
    const node = cluster();
    const a = node('a');
    const b = node('b');
    const silent = node('silent');
    for (const n of [a, b, silent]) await n.registry.start();
    await settle();
    b.calls.serve('$test', () => 1);
    await settle();
    const start = Date.now();
    const parse = (r: unknown): number | undefined => (typeof r === 'number' ? r : undefined);
    const r = await a.calls.gather('$test', {}, { waitMs: 5_000, parse, enough: (n) => n === 1 });
    expect(Date.now() - start).toBeLessThan(1_000);
    expect(r).toMatchObject({ replies: new Map([['b', 1]]), nodes: { answered: 2, expected: 3 }, missing: ['silent'] });
  });
});
