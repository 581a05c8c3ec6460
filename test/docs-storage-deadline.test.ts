import { type CommitInput, type DocListQuery, type DocStore, openDatabase, SqliteDocStore } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { testDocNamespace } from './docs-fixtures.js';
import { connectedRawSocket, defer, startServer } from './helpers.js';

/**
 * The embedded store behind a gate: while it is shut, every call waits (as
 * with a database that stopped answering without closing the connection).
 */
class GatedStore implements DocStore {
  readonly inner: SqliteDocStore;
  #shut: Promise<void> | undefined;
  #open: (() => void) | undefined;
  constructor(inner: SqliteDocStore) {
    this.inner = inner;
  }
  shut(): void {
    this.#shut = new Promise((resolve) => {
      this.#open = resolve;
    });
  }
  open(): void {
    this.#open?.();
    this.#shut = undefined;
  }
  async #pass<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.#shut) await this.#shut;
    return fn();
  }
  load(doc: string) {
    return this.#pass(() => this.inner.load(doc));
  }
  commit(input: CommitInput) {
    return this.#pass(() => this.inner.commit(input));
  }
  advanceClient(doc: string, clientId: string, mutationId: number) {
    return this.#pass(() => this.inner.advanceClient(doc, clientId, mutationId));
  }
  lastMutationId(doc: string, clientId: string) {
    return this.#pass(() => this.inner.lastMutationId(doc, clientId));
  }
  opsSince(doc: string, version: number, limit: number) {
    return this.#pass(() => this.inner.opsSince(doc, version, limit));
  }
  compact(doc: string, upTo: number) {
    return this.#pass(() => this.inner.compact(doc, upTo));
  }
  opsBefore(doc: string, before: number, limit: number) {
    return this.#pass(() => this.inner.opsBefore(doc, before, limit));
  }
  listDocs(query: DocListQuery) {
    return this.#pass(() => this.inner.listDocs(query));
  }
  countClients(doc: string) {
    return this.#pass(() => this.inner.countClients(doc));
  }
  close() {
    return this.inner.close();
  }
}

describe('documents: storage that stops answering', () => {
  it('doc.mutate and doc.subscribe are answered unavailable within 3 s; the mutation is applied once afterwards', async () => {
    const db = openDatabase(':memory:');
    defer(() => db.close());
    const store = new GatedStore(new SqliteDocStore(db));
    const server = await startServer({ docs: { todo: testDocNamespace() }, docStore: store });
    const raw = await connectedRawSocket(server, 'alice');
    const mutate = (id: number, mutationId: number) =>
      JSON.stringify({
        type: 'doc.mutate',
        id,
        doc: 'todo:gate',
        clientId: 'gate-client-1',
        mutationId,
        name: 'increment',
        args: {},
      });
    raw.send(mutate(11, 1));
    expect(await raw.next((m) => m.id === 11)).toMatchObject({ type: 'reply', result: { version: 1 } });

    store.shut();
    const started = performance.now();
    raw.send(mutate(12, 2));
    raw.send(JSON.stringify({ type: 'doc.subscribe', id: 13, doc: 'todo:other' }));
    const [m, s] = await Promise.all([raw.next((x) => x.id === 12, 5_000), raw.next((x) => x.id === 13, 5_000)]);
    const waitedMs = performance.now() - started;
    expect({ mutate: m.code, subscribe: s.code }).toEqual({ mutate: 'unavailable', subscribe: 'unavailable' });
    expect(m.retryAfterMs).toBeGreaterThan(0);
    expect(waitedMs).toBeLessThan(3_000);

    // Storage answers again: the waiting mutation is applied (once); its resend is a duplicate,
    // and no late verdict for the first attempt arrives.
    store.open();
    raw.send(mutate(14, 2));
    expect(await raw.next((x) => x.id === 14)).toMatchObject({ type: 'reply', result: { duplicate: true } });
    expect(await server.docs.get('todo:gate')).toMatchObject({ version: 2, state: { count: 2 } });
    expect(raw.messages.filter((x) => x.id === 12)).toHaveLength(1);
    raw.send(JSON.stringify({ type: 'doc.subscribe', id: 15, doc: 'todo:other' }));
    expect(await raw.next((x) => x.id === 15)).toMatchObject({ type: 'reply' });
    expect(raw.messages.filter((x) => x.id === 13)).toHaveLength(1);
  }, 20_000);
});
