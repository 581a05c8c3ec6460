/**
 * Starts a resource on the first `retain()` and stops it after the last
 * release. The stop is deferred (by a macrotask at least), so React's
 * mount → unmount → mount (StrictMode, or a component that re-keys) keeps the
 * resource running instead of churning it.
 */
export class Activation {
  readonly #start: () => () => void;
  readonly #idleMs: number;
  #count = 0;
  #stop: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `idleMs`: how long to keep the resource after the last release (default 0: the next macrotask). */
  constructor(start: () => () => void, idleMs = 0) {
    this.#start = start;
    this.#idleMs = idleMs;
  }

  /** True while started. */
  get active(): boolean {
    return this.#stop !== undefined;
  }

  /** Retains the resource (starting it if needed); returns the release function. */
  retain(): () => void {
    this.#count++;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#stop) this.#stop = this.#start();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#count--;
      if (this.#count > 0) return;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#count > 0 || !this.#stop) return;
        const stop = this.#stop;
        this.#stop = undefined;
        stop();
      }, this.#idleMs);
    };
  }
}

/**
 * Adds `listener` to `listeners` and keeps `activation` retained until the
 * returned function is called, which removes the listener and releases it:
 * the `subscribe` of every shared handle.
 */
export function listenWhileActive<L>(activation: Activation, listeners: Set<L>, listener: L): () => void {
  listeners.add(listener);
  const release = activation.retain();
  return () => {
    listeners.delete(listener);
    release();
  };
}

/** A per-owner cache (one entry per client and key), created lazily. */
export function cachePer<O extends object, V>(make: (owner: O, key: string) => V): (owner: O, key: string) => V {
  const caches = new WeakMap<O, Map<string, V>>();
  return (owner, key) => {
    let cache = caches.get(owner);
    if (!cache) {
      cache = new Map();
      caches.set(owner, cache);
    }
    let v = cache.get(key);
    if (v === undefined) {
      v = make(owner, key);
      cache.set(key, v);
    }
    return v;
  };
}
