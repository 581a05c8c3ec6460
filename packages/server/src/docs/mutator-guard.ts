import { createContext, Script } from 'node:vm';

/** What a guarded call produced. */
export type GuardResult<T> = (
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'threw'; readonly error: unknown }
  | { readonly kind: 'timeout'; readonly limitMs: number }
) & {
  /** How long the job ran on the server's thread, ms (the whole budget when it was stopped). */
  readonly elapsedMs: number;
};

interface Job {
  readonly fn: () => unknown;
  readonly settle: (result: GuardResult<unknown>) => void;
  result: GuardResult<unknown> | undefined;
}

const TIMEOUT_CODE = 'ERR_SCRIPT_EXECUTION_TIMEOUT';

function isTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === TIMEOUT_CODE;
}

/**
 * Runs synchronous jobs (mutators) under a time budget on the server's own
 * thread. Jobs queued during one event-loop turn run together after the
 * turn's I/O, inside one `node:vm` call with a timeout (a watchdog costs
 * ~0.1 ms per call, so one call guards a whole batch). A job still running
 * when the call's timeout fires is stopped wherever it is (also in code
 * defined outside the context); it is answered `timeout` only if it had the
 * call to itself, otherwise it is run again first in a fresh call, so every
 * job gets the whole budget (a call starts no job past half its budget).
 * Jobs after it run in the next call. A flush
 * yields to the event loop once it has run for the budget, so the loop is
 * never held much longer than twice the budget.
 *
 * A stopped job must leave nothing behind: the guard suits pure functions
 * of their inputs (a mutator's draft is discarded).
 *
 * With `timeoutMs` 0 jobs run at once, unguarded.
 */
export class MutatorGuard {
  readonly #timeoutMs: number;
  readonly #script = new Script('runBatch()', { filename: 'syncline-mutator-guard' });
  readonly #context;
  #queue: Job[] = [];
  #scheduled = false;
  /** The batch of the current guarded call, and the index of its running job. */
  #batch: Job[] = [];
  #index = 0;

  constructor(timeoutMs: number) {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new TypeError('mutatorTimeoutMs must be 0 or more.');
    this.#timeoutMs = Math.ceil(timeoutMs);
    this.#context = createContext({ runBatch: this.#runBatch });
  }

  /** The budget of one job, ms (0: unguarded). */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Runs `fn` under the budget; never rejects. */
  run<T>(fn: () => T): Promise<GuardResult<T>> {
    if (this.#timeoutMs === 0) return Promise.resolve(callJob(fn) as GuardResult<T>);
    return new Promise((resolve) => {
      this.#queue.push({ fn, settle: resolve as (r: GuardResult<unknown>) => void, result: undefined });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const jobs = this.#queue;
    this.#queue = [];
    const startedAt = performance.now();
    let i = 0;
    while (i < jobs.length) {
      if (i > 0 && performance.now() - startedAt >= this.#timeoutMs) {
        // Held the loop for a whole budget: let I/O in, continue on the next turn.
        this.#queue = jobs.slice(i).concat(this.#queue);
        this.#schedule();
        break;
      }
      i = this.#guardedCall(jobs, i);
    }
    this.#batch = [];
    for (let k = 0; k < i; k++) {
      const job = jobs[k] as Job;
      job.settle(job.result as GuardResult<unknown>);
    }
  };

  /** Runs jobs from `start` in one guarded call; returns the index of the first job not done. */
  #guardedCall(jobs: Job[], start: number): number {
    this.#batch = jobs;
    this.#index = start;
    try {
      this.#script.runInContext(this.#context, { timeout: this.#timeoutMs });
      return this.#index;
    } catch (err) {
      const k = this.#index;
      const job = jobs[k];
      // Stopped after the last job, or between storing a result and moving on: that job is done.
      if (job === undefined) return jobs.length;
      if (job.result !== undefined) return k + 1;
      if (!isTimeout(err)) {
        job.result = { kind: 'threw', error: err, elapsedMs: 0 };
        return k + 1;
      }
      if (k === start) {
        job.result = { kind: 'timeout', limitMs: this.#timeoutMs, elapsedMs: this.#timeoutMs };
        return k + 1;
      }
      // It shared the budget with earlier jobs: run it again with a budget of its own.
      return k;
    }
  }

  /** Called inside the guarded call (from the context); runs the batch from `#index`. */
  readonly #runBatch = (): void => {
    const jobs = this.#batch;
    const start = this.#index;
    const startedAt = performance.now();
    for (; this.#index < jobs.length; this.#index++) {
      // Half the budget used: the next job starts in a fresh call rather than risk being stopped.
      if (this.#index > start && performance.now() - startedAt > this.#timeoutMs / 2) return;
      const job = jobs[this.#index] as Job;
      job.result = callJob(job.fn);
    }
  };
}

function callJob(fn: () => unknown): GuardResult<unknown> {
  const startedAt = performance.now();
  try {
    const value = fn();
    return { kind: 'ok', value, elapsedMs: performance.now() - startedAt };
  } catch (error) {
    return { kind: 'threw', error, elapsedMs: performance.now() - startedAt };
  }
}
