import { defineMutators, type Transaction } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { connectedRawSocket, type RawSocket, startServer } from './helpers.js';
import { captureLog } from './log-capture.js';

/** Spins the server's thread for `ms` (a mutator that takes too long). */
function spin(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

const budgetMutators = defineMutators({
  ...testMutators,
  slow(tx: Transaction<TestState>, args: { ms: number }) {
    spin(args.ms);
    tx.draft.count += 1;
  },
  throwString() {
    throw 'plain string';
  },
  throwObject() {
    throw { reason: 'full' };
  },
  throwBare() {
    throw Object.create(null);
  },
  throwNull() {
    throw null;
  },
  throwHostile() {
    throw {
      get message(): string {
        throw new Error('no message for you');
      },
    };
  },
});

const DOCS = { t: testDocNamespace({ mutators: budgetMutators }) };

function mutate(
  id: number,
  doc: string,
  mutationId: number,
  name: string,
  args: unknown = {},
): Record<string, unknown> {
  return { type: 'doc.mutate', id, doc, clientId: 'budget-client', mutationId, name, args };
}

/** Round trip of one ping on `raw`, ms. */
async function pingRtt(raw: RawSocket): Promise<number> {
  const before = raw.messages.filter((m) => m.type === 'pong').length;
  const started = performance.now();
  raw.send(JSON.stringify({ type: 'ping' }));
  await raw.next(() => raw.messages.filter((m) => m.type === 'pong').length > before, 10_000);
  return performance.now() - started;
}

describe('mutator time budget', () => {
  it('stops a mutator that runs past limits.mutatorTimeoutMs with mutation_timeout; other connections keep being served', async () => {
    const server = await startServer({ docs: DOCS, limits: { mutatorTimeoutMs: 100 } });
    const attacker = await connectedRawSocket(server, 'mallory');
    const other = await connectedRawSocket(server, 'bob');
    await pingRtt(other);

    const sentAt = performance.now();
    attacker.send(JSON.stringify(mutate(10, 't:spin', 1, 'slow', { ms: 3_000 })));
    const health = (async () => {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/healthz`);
      return { status: res.status, ms: performance.now() - t0 };
    })();
    // Another client's pings while the mutator would spin.
    const rtts: number[] = [];
    while (performance.now() - sentAt < 600) rtts.push(await pingRtt(other));
    const reply = await attacker.next((m) => m.id === 10, 5_000);
    const answeredMs = performance.now() - sentAt;

    expect(reply).toMatchObject({ type: 'error', code: 'mutation_timeout', details: { limitMs: 100 } });
    expect(answeredMs).toBeLessThan(1_000);
    // The mutator would hold the thread for 3 s: round trips far below that
    // show it was stopped (the bound leaves room for a loaded machine).
    expect(Math.max(...rtts), `ping round trips ${rtts.map((r) => r.toFixed(0)).join(', ')} ms`).toBeLessThan(800);
    expect(await health).toMatchObject({ status: 200 });
    expect((await health).ms).toBeLessThan(800);
    // Nothing applied; the id is used up (a resend is a duplicate).
    expect(await server.docs.get('t:spin')).toMatchObject({ version: 0, state: { count: 0 } });
    attacker.send(JSON.stringify(mutate(11, 't:spin', 1, 'slow', { ms: 3_000 })));
    expect(await attacker.next((m) => m.id === 11)).toMatchObject({ type: 'reply', result: { duplicate: true } });
    attacker.send(JSON.stringify(mutate(12, 't:spin', 2, 'increment')));
    expect(await attacker.next((m) => m.id === 12)).toMatchObject({ type: 'reply', result: { version: 1 } });
  });

  it('applies the other mutations of a batch in which one mutator is stopped', async () => {
    const server = await startServer({ docs: DOCS, limits: { mutatorTimeoutMs: 100 } });
    const raw = await connectedRawSocket(server, 'alice');
    // One frame: the mutations of different documents run in the same turn, under one guarded call.
    const frame = [
      mutate(21, 't:b1', 1, 'increment'),
      mutate(22, 't:b2', 1, 'slow', { ms: 3_000 }),
      mutate(23, 't:b3', 1, 'slow', { ms: 30 }),
      mutate(24, 't:b4', 1, 'increment', { by: 4 }),
    ];
    raw.send(JSON.stringify(frame));
    const replies = await Promise.all([21, 22, 23, 24].map((id) => raw.next((m) => m.id === id, 5_000)));
    expect(replies.map((r) => r.code ?? r.result)).toEqual([
      { version: 1 },
      'mutation_timeout',
      { version: 1 },
      { version: 1 },
    ]);
    expect((await server.docs.get('t:b1')).state).toMatchObject({ count: 1 });
    expect(await server.docs.get('t:b2')).toMatchObject({ version: 0, state: { count: 0 } });
    expect((await server.docs.get('t:b3')).state).toMatchObject({ count: 1 });
    expect((await server.docs.get('t:b4')).state).toMatchObject({ count: 4 });
  });

  it('a mutator that runs well within the budget is never stopped', async () => {
    const server = await startServer({ docs: DOCS, limits: { mutatorTimeoutMs: 200 } });
    const raw = await connectedRawSocket(server, 'alice');
    raw.send(JSON.stringify([mutate(31, 't:ok1', 1, 'slow', { ms: 60 }), mutate(32, 't:ok2', 1, 'slow', { ms: 60 })]));
    expect(await raw.next((m) => m.id === 31)).toMatchObject({ type: 'reply', result: { version: 1 } });
    expect(await raw.next((m) => m.id === 32)).toMatchObject({ type: 'reply', result: { version: 1 } });
  });
});

describe('mutators that throw', () => {
  it('answer mutation_failed with a readable message whatever they throw, and log nothing at error level', async () => {
    const log = captureLog();
    const server = await startServer({ docs: DOCS, logger: log.logger });
    const raw = await connectedRawSocket(server, 'alice');
    const cases: Array<[string, string]> = [
      ['throwString', 'plain string'],
      ['throwObject', '{"reason":"full"}'],
      ['throwBare', '{}'],
      ['throwNull', 'null'],
      ['throwHostile', ''],
    ];
    for (const [i, [name, text]] of cases.entries()) {
      raw.send(JSON.stringify(mutate(40 + i, 't:throws', i + 1, name)));
      const reply = await raw.next((m) => m.id === 40 + i);
      expect(reply, name).toMatchObject({ type: 'error', code: 'mutation_failed' });
      expect(String(reply.message), name).toContain(`Mutator "${name}" failed: ${text}`);
    }
    expect(await server.docs.get('t:throws')).toMatchObject({ version: 0 });
    expect(log.errors()).toEqual([]);
  });
});

describe('mutator time per user', () => {
  it('a user whose mutators use up limits.mutatorMsPerSec gets rate_limited; another user is served meanwhile', async () => {
    const server = await startServer({
      docs: DOCS,
      // The per-mutator limit far above the 40 ms mutators, so a busy machine
      // pausing the process mid-mutator cannot turn one into mutation_timeout.
      limits: { mutatorTimeoutMs: 1_000, mutatorMsPerSec: 100, mutatorBurstMs: 200 },
    });
    const mallory = await connectedRawSocket(server, 'mallory');
    const bob = await connectedRawSocket(server, 'bob');
    // 20 mutators of 40 ms: the 200 ms burst lets about five in, then the
    // balance is spent (fewer on a loaded machine, where each takes longer).
    const ids = Array.from({ length: 20 }, (_, i) => 100 + i);
    for (const [i, id] of ids.entries()) mallory.send(JSON.stringify(mutate(id, 't:hog', i + 1, 'slow', { ms: 40 })));
    const replies = await Promise.all(ids.map((id) => mallory.next((m) => m.id === id, 10_000)));
    const limited = replies.filter((r) => r.code === 'rate_limited');
    const applied = replies.filter((r) => r.type === 'reply');
    const verdicts = replies.map((r) => r.code ?? 'ok').join(',');
    expect(applied.length, verdicts).toBeGreaterThanOrEqual(2);
    expect(applied.length, verdicts).toBeLessThanOrEqual(8);
    // The first refused one is rate_limited; those behind it (ids now ahead) wait for it.
    expect(replies[applied.length], verdicts).toMatchObject({ code: 'rate_limited' });
    for (const r of replies.slice(applied.length)) expect(['rate_limited', 'mutation_out_of_order']).toContain(r.code);
    expect(limited[0]).toMatchObject({ details: { limit: 'mutatorMsPerSec' } });
    expect(limited[0]?.retryAfterMs).toBeGreaterThan(0);
    // Bob's own balance is untouched: his mutation is applied at once.
    bob.send(JSON.stringify({ ...mutate(200, 't:bob', 1, 'increment'), clientId: 'bob-client-1' }));
    expect(await bob.next((m) => m.id === 200)).toMatchObject({ type: 'reply', result: { version: 1 } });
    // A refused mutation did not use up its id: once the balance refills it is applied.
    const firstRefused = replies.findIndex((r) => r.code === 'rate_limited');
    await new Promise((r) => setTimeout(r, (limited[0]?.retryAfterMs as number) + 50));
    mallory.send(JSON.stringify(mutate(300, 't:hog', firstRefused + 1, 'increment')));
    expect(await mallory.next((m) => m.id === 300)).toMatchObject({ type: 'reply' });
  });
});
