/** Values below this are counted exactly (µs). */
const LINEAR_LIMIT = 2048;
/** Relative width of the logarithmic buckets above `LINEAR_LIMIT`. */
const LOG_STEP = 1.01;
const LOG_BUCKETS = 1400;
const SIZE = LINEAR_LIMIT + LOG_BUCKETS;
const LN_STEP = Math.log(LOG_STEP);

/** A histogram as sent between processes. */
export interface HistogramData {
  readonly counts: number[];
  readonly total: number;
  readonly max: number;
}

/**
 * Latency histogram in microseconds: exact below ~2 ms, 1% buckets above (up
 * to ~30 min). Cheap to record, mergeable across processes.
 */
export class Histogram {
  readonly #counts = new Float64Array(SIZE);
  #total = 0;
  #max = 0;

  /** Records one value in microseconds. */
  record(us: number): void {
    const v = us < 0 ? 0 : us;
    let i: number;
    if (v < LINEAR_LIMIT) i = v | 0;
    else i = Math.min(SIZE - 1, LINEAR_LIMIT + Math.floor(Math.log(v / LINEAR_LIMIT) / LN_STEP));
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#total++;
    if (v > this.#max) this.#max = v;
  }

  /** Number of values recorded. */
  get total(): number {
    return this.#total;
  }

  /** Adds another histogram's counts. */
  merge(data: HistogramData): void {
    for (let i = 0; i < data.counts.length; i++) this.#counts[i] = (this.#counts[i] ?? 0) + (data.counts[i] ?? 0);
    this.#total += data.total;
    if (data.max > this.#max) this.#max = data.max;
  }

  /** Value (µs) below which a fraction `q` of the values lie. */
  quantile(q: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.ceil(q * this.#total);
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank)
        return Math.min(this.#max, i < LINEAR_LIMIT ? i + 1 : LINEAR_LIMIT * LOG_STEP ** (i - LINEAR_LIMIT + 1));
    }
    return this.#max;
  }

  /** Serializable form (trailing zeros dropped). */
  toJSON(): HistogramData {
    let last = SIZE - 1;
    while (last >= 0 && this.#counts[last] === 0) last--;
    return { counts: Array.from(this.#counts.subarray(0, last + 1)), total: this.#total, max: this.#max };
  }
}
