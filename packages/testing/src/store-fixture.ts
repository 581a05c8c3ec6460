import { afterEach } from 'vitest';

/** One fresh backend of a store under test: `open()` gives a store on it (one per node). */
export interface StoreBackend<S> {
  open(): Promise<S>;
  close(): Promise<void>;
}

/** A store implementation under test (DocStore, PresenceStore, RevocationStore …). */
export interface StoreFactory<S> {
  readonly name: string;
  /** Whether `open()` may be called more than once to get several nodes' stores on one backend. */
  readonly multiNode: boolean;
  /** A fresh backend; `open()` gives a store on it (one per node). */
  create(): Promise<StoreBackend<S>>;
}

/** What a contract suite's tests open stores with. */
export interface StoreFixture<S> {
  /** A fresh backend whose stores (nodes) are closed after the test. */
  backend(): Promise<{ open(): Promise<S> }>;
  /** One store on a fresh backend. */
  store(): Promise<S>;
}

/**
 * Opens backends and stores for the tests of one contract suite and closes
 * them after each test, the latest opened first (stores before their
 * backend). Call it inside the suite's `describe`.
 */
export function storeFixture<S extends { close(): Promise<void> }>(factory: StoreFactory<S>): StoreFixture<S> {
  let closers: Array<() => Promise<void>> = [];

  afterEach(async () => {
    const list = closers;
    closers = [];
    for (const c of list.reverse()) await c();
  });

  async function backend(): Promise<{ open(): Promise<S> }> {
    const b = await factory.create();
    closers.push(() => b.close());
    return {
      async open() {
        const s = await b.open();
        closers.push(() => s.close());
        return s;
      },
    };
  }

  return { backend, store: async () => (await backend()).open() };
}
