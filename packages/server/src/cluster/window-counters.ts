/** One key's count in its open window. */
export interface WindowCount {
  /** Hits counted in the window. */
  readonly count: number;
  /** Milliseconds until the window ends (the count then starts again from zero). */
  readonly remainingMs: number;
}

/**
 * Counters of hits in fixed windows, shared by every node of a cluster, so
 * a limit counted with them holds for the whole cluster rather than for each
 * node (the console's sign-in failure limits use them).
 *
 * Contract:
 * - `hit(key, windowMs)` adds one to the key's count, atomically with the
 *   hits of every node on the same key. The first hit of a key without an
 *   open window opens one of `windowMs`; when it ends the key is forgotten.
 *   Resolves with the count after this hit and the time left in the window.
 * - `peek(key)` reads the key's open window (undefined when none is open);
 *   it changes nothing.
 * - Time left is measured by the store, so nodes whose clocks differ still
 *   agree on when a window ends.
 * - A failed call rejects (`unavailable` when nothing was counted, `timeout`
 *   when the outcome is unknown). Callers decide what to do without the
 *   shared counts; a store never blocks a call for longer than its command
 *   timeout.
 * - A store keeps a key only while its window is open.
 */
export interface WindowCounters {
  hit(key: string, windowMs: number): Promise<WindowCount>;
  peek(key: string): Promise<WindowCount | undefined>;
}

/** Keys a `MemoryWindowCounters` keeps by default. */
export const DEFAULT_MAX_WINDOW_KEYS = 10_000;

interface OpenWindow {
  count: number;
  endsAt: number;
}

/**
 * Window counters in this process's memory: a node's own counts (a node
 * alone, or a node counting for itself beside a cluster's shared counters).
 * At most `maxKeys` windows are kept: past it, ended windows are dropped,
 * then the oldest opened ones.
 */
export class MemoryWindowCounters implements WindowCounters {
  readonly #windows = new Map<string, OpenWindow>();
  readonly #now: () => number;
  readonly #maxKeys: number;

  constructor(options: { now?: () => number; maxKeys?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_WINDOW_KEYS;
  }

  /** Adds one hit synchronously (the interface's `hit`, for callers in memory). */
  hitNow(key: string, windowMs: number): WindowCount {
    const now = this.#now();
    let w = this.#open(key, now);
    if (!w) {
      this.#makeRoom(now);
      w = { count: 0, endsAt: now + windowMs };
      this.#windows.set(key, w);
    }
    w.count++;
    return { count: w.count, remainingMs: w.endsAt - now };
  }

  /** Reads a key's open window synchronously. */
  peekNow(key: string): WindowCount | undefined {
    const now = this.#now();
    const w = this.#open(key, now);
    return w && { count: w.count, remainingMs: w.endsAt - now };
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    return this.hitNow(key, windowMs);
  }

  async peek(key: string): Promise<WindowCount | undefined> {
    return this.peekNow(key);
  }

  /** Windows kept now (ended ones not yet dropped included). */
  get size(): number {
    return this.#windows.size;
  }

  #open(key: string, now: number): OpenWindow | undefined {
    const w = this.#windows.get(key);
    if (w && w.endsAt <= now) {
      this.#windows.delete(key);
      return undefined;
    }
    return w;
  }

  #makeRoom(now: number): void {
    if (this.#windows.size < this.#maxKeys) return;
    for (const [key, w] of this.#windows) if (w.endsAt <= now) this.#windows.delete(key);
    // Still full: the oldest opened windows go (a Map iterates in insertion order).
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < this.#maxKeys) break;
      this.#windows.delete(key);
    }
  }
}
