/** Whether a backend (broker, document store) can serve right now. */
export interface BackendHealth {
  readonly up: boolean;
  /** Why it is down, in the adapter's words (for the server log, never sent to clients). */
  readonly reason?: string | undefined;
}

/** Receives a backend's health on every change. */
export type HealthListener = (health: BackendHealth) => void;

/**
 * Optional health seam of a network backend (`Broker`, `DocStore`).
 *
 * Contract:
 * - `health()` is cheap (no I/O): it returns the last known state.
 * - An adapter reports `up: false` within `BACKEND_DOWN_DETECT_MS` of losing
 *   its backend (connection closed, or a probe unanswered in time, so a
 *   backend that accepts TCP but does not answer counts as down), and
 *   `up: true` again once a probe succeeded.
 * - `onHealth` listeners are called once per change, never twice in a row
 *   with the same `up`; a listener that throws does not stop the others.
 * - A backend without this seam (the embedded ones) is always up.
 */
export interface HealthReporter {
  health(): BackendHealth;
  /** Calls `listener` on every change; returns a function that removes it. */
  onHealth(listener: HealthListener): () => void;
}

/** Longest a network adapter takes to report a lost backend (the bound `/readyz` and clients rely on). */
export const BACKEND_DOWN_DETECT_MS = 3_000;

/** How often adapters probe their backend (a cheap `PING` / `SELECT 1`). */
export const HEALTH_PROBE_INTERVAL_MS = 1_000;

/** How long a probe may take before the backend counts as down (interval + timeout stays under `BACKEND_DOWN_DETECT_MS`). */
export const HEALTH_PROBE_TIMEOUT_MS = 1_000;

/**
 * A health state with listeners, for adapters implementing `HealthReporter`:
 * `set` records a change and tells the listeners only when `up` flips.
 */
export class HealthSignal implements HealthReporter {
  #current: BackendHealth = { up: true };
  readonly #listeners = new Set<HealthListener>();
  readonly #onListenerError: (err: unknown) => void;

  /** `onListenerError` receives what a listener threw (default: ignored). */
  constructor(onListenerError: (err: unknown) => void = () => undefined) {
    this.#onListenerError = onListenerError;
  }

  health(): BackendHealth {
    return this.#current;
  }

  onHealth(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Records the backend as up or down; listeners hear of flips only. */
  set(up: boolean, reason?: string): void {
    if (this.#current.up === up) return;
    this.#current = up ? { up } : { up, reason };
    for (const l of [...this.#listeners]) {
      try {
        l(this.#current);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }
}

/** Options of `startHealthProbe`. */
export interface HealthProbeOptions {
  /** One cheap round trip to the backend (resolves when it answered). */
  readonly probe: () => Promise<unknown>;
  /** Called with each outcome: `undefined` on success, the failure otherwise (a timeout included). */
  readonly onResult: (err: unknown) => void;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
}

/**
 * Runs `probe` every `intervalMs`, at most one at a time. A probe that takes
 * longer than `timeoutMs` is reported as failed at that moment; when it
 * settles later its real outcome is reported too (so a backend that was only
 * slow is seen up again as soon as it answers). Returns the function that
 * stops it. The timer does not keep the process alive.
 */
export function startHealthProbe(options: HealthProbeOptions): () => void {
  const intervalMs = options.intervalMs ?? HEALTH_PROBE_INTERVAL_MS;
  const timeoutMs = options.timeoutMs ?? HEALTH_PROBE_TIMEOUT_MS;
  let stopped = false;
  let running = false;
  const report = (outcome: unknown): void => {
    if (!stopped) options.onResult(outcome);
  };
  const tick = (): void => {
    if (running || stopped) return;
    running = true;
    const timer = setTimeout(() => report(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    let work: Promise<unknown>;
    try {
      work = options.probe();
    } catch (err) {
      work = Promise.reject(err);
    }
    work.then(
      () => {
        clearTimeout(timer);
        running = false;
        report(undefined);
      },
      (err: unknown) => {
        clearTimeout(timer);
        running = false;
        report(err ?? new Error('probe failed'));
      },
    );
  };
  const interval = setInterval(tick, intervalMs);
  interval.unref();
  return () => {
    stopped = true;
    clearInterval(interval);
  };
}

/**
 * Races `work` against `timeoutMs`: rejects with `onTimeout()` when it takes
 * longer (the work itself keeps running; its late outcome is ignored).
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
