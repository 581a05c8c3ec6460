import { type ClientOptions, type DocReplica, type TransportFactory, websocketTransport } from '@syncline/client';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { prng, type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, startServer, tempDir, waitFor } from './helpers.js';

type Replica = DocReplica<TestState, typeof testMutators>;

const CLIENTS = 6;
const MUTATIONS_PER_CLIENT = 40;
const MAX_DELAY_MS = 15;

/**
 * Runs callbacks after random delays, strictly in the order they were given: one FIFO and one
 * timer, so equal or decreasing deadlines can never reorder two frames.
 */
function orderedDelay(rng: () => number): (fn: () => void) => void {
  const queue: Array<{ at: number; fn: () => void }> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const drain = (): void => {
    timer = undefined;
    while (queue.length > 0 && (queue[0] as { at: number }).at <= Date.now()) queue.shift()?.fn();
    if (queue.length > 0) timer = setTimeout(drain, Math.max(0, (queue[0] as { at: number }).at - Date.now()));
  };
  return (fn) => {
    const last = queue.at(-1)?.at ?? 0;
    queue.push({ at: Math.max(last, Date.now() + rng() * MAX_DELAY_MS), fn });
    if (!timer) timer = setTimeout(drain, Math.max(0, (queue[0] as { at: number }).at - Date.now()));
  };
}

/** The real WebSocket transport with random, order-preserving delays in both directions. */
function delayedTransport(rng: () => number): TransportFactory {
  const inner = websocketTransport(WebSocket as unknown as ClientOptions['WebSocket'] & object);
  return async (url, events, codec) => {
    const incoming = orderedDelay(rng);
    const outgoing = orderedDelay(rng);
    const t = await inner(
      url,
      {
        onOpen: () => incoming(() => events.onOpen()),
        onFrame: (f) => incoming(() => events.onFrame(f)),
        onClose: (code, reason) => incoming(() => events.onClose(code, reason)),
      },
      codec,
    );
    return {
      name: 'delayed-websocket',
      send(frame) {
        outgoing(() => t.send(frame));
      },
      close(code, reason) {
        t.close(code, reason);
      },
    };
  };
}

/**
 * The mutators here are trivial; the time limit stays on but far from them,
 * so a busy machine pausing the process mid-mutator cannot stop one (the
 * limit has its own tests in docs-mutator-budget).
 */
const CONVERGENCE_LIMITS = { mutatorTimeoutMs: 2_000 };

describe('document convergence (seeded)', () => {
  it('converges with random delays, dropped connections and a server restart', async () => {
    const seed = Number(process.env.SYNCLINE_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`docs convergence seed: ${seed} (replay with SYNCLINE_SEED=${seed})`);
    const rng = prng(seed);
    const database = `${tempDir()}/docs.db`;
    const docs = { conv: testDocNamespace({ snapshotEvery: 25, opLogRetention: 50 }) };
    let server: SynclineServer = await startServer({ docs, database, limits: CONVERGENCE_LIMITS });
    const port = server.port;

    const users = Array.from({ length: CLIENTS }, (_, i) => `u${i}`);
    const clients = await Promise.all(
      users.map((u) =>
        client(server, u, { transport: delayedTransport(rng), reconnect: { minDelayMs: 10, maxDelayMs: 150 } }),
      ),
    );
    const replicas = clients.map((c) => c.doc('conv:doc', { mutators: testMutators }) as Replica);

    const expected = { count: 0, tally: {} as Record<string, number>, items: new Set<string>() };
    const confirmations: Promise<unknown>[] = [];
    const total = CLIENTS * MUTATIONS_PER_CLIENT;
    let restarted = false;
    for (let n = 0; n < total; n++) {
      const i = Math.floor(rng() * CLIENTS);
      const r = replicas[i] as Replica;
      const user = users[i] as string;
      const kind = rng();
      if (kind < 0.4) {
        expected.count += 1;
        confirmations.push(r.mutate.increment({}));
      } else if (kind < 0.7) {
        expected.tally[user] = (expected.tally[user] ?? 0) + 1;
        confirmations.push(r.mutate.tally({ key: user }));
      } else {
        const id = `${user}-${n}`;
        expected.items.add(id);
        confirmations.push(r.mutate.addItem({ id, text: `item ${n}` }));
      }
      const chaos = rng();
      if (chaos < 0.04) server.disconnectUser(users[Math.floor(rng() * CLIENTS)] as string);
      if (!restarted && n === Math.floor(total / 2)) {
        restarted = true;
        await server.close();
        server = await startServer({ docs, database, port, limits: CONVERGENCE_LIMITS });
      }
      if (rng() < 0.3) await new Promise((res) => setTimeout(res, rng() * 10));
    }
    await Promise.all(confirmations);

    const final = await server.docs.get('conv:doc');
    // A failed wait says which replica lagged and how, so a failure on a loaded machine can be diagnosed from the log.
    await waitFor(
      () => replicas.every((r) => r.status === 'synced' && r.version === final.version),
      20_000,
      () =>
        `seed ${seed}: wanted every replica synced at v${final.version}, saw ${replicas
          .map(
            (r, i) => `${users[i]}: ${r.status} v${r.version} pending=${r.pending.length} client=${clients[i]?.state}`,
          )
          .join('; ')}`,
    );
    const state = final.state as TestState;
    for (const r of replicas) expect(r.current).toEqual(state);
    // Every acknowledged mutation applied exactly once.
    expect(state.count).toBe(expected.count);
    expect(state.tally).toEqual(expected.tally);
    expect(state.items.map((x) => x.id).sort()).toEqual([...expected.items].sort());
    expect(state.items.length).toBe(expected.items.size);
  });
});
