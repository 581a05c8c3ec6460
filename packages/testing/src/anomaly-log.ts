/** Anything a checker reports: a discriminated union on `kind`. */
export interface KindedAnomaly {
  readonly kind: string;
}

/** Count of each anomaly kind a checker knows, zero included. */
export type AnomalyCounts<A extends KindedAnomaly> = { readonly [K in A['kind']]: number };

/** The first examples of each anomaly kind, at most `maxExamples` each, in the order they were found. */
export type AnomalyExamples<A extends KindedAnomaly> = {
  readonly [K in A['kind']]: ReadonlyArray<Extract<A, { kind: K }>>;
};

/** Default number of examples a checker keeps per anomaly kind. */
export const DEFAULT_MAX_EXAMPLES = 10;

/**
 * Collects anomalies: counts every one, keeps the first `maxExamples` of each
 * kind. Internal to the checkers; the result types are what they export.
 */
export class AnomalyLog<A extends KindedAnomaly> {
  readonly #kinds: ReadonlyArray<A['kind']>;
  readonly #max: number;
  readonly #counts = new Map<string, number>();
  readonly #examples = new Map<string, A[]>();

  constructor(kinds: ReadonlyArray<A['kind']>, maxExamples = DEFAULT_MAX_EXAMPLES) {
    this.#kinds = kinds;
    this.#max = Math.max(0, maxExamples);
    for (const k of kinds) {
      this.#counts.set(k, 0);
      this.#examples.set(k, []);
    }
  }

  /** Records one anomaly. */
  add(anomaly: A): void {
    this.#counts.set(anomaly.kind, (this.#counts.get(anomaly.kind) ?? 0) + 1);
    const list = this.#examples.get(anomaly.kind);
    if (list && list.length < this.#max) list.push(anomaly);
  }

  /** Total number of anomalies recorded. */
  get total(): number {
    let n = 0;
    for (const c of this.#counts.values()) n += c;
    return n;
  }

  /** Counts by kind, zero included. */
  counts(): AnomalyCounts<A> {
    return Object.fromEntries(this.#kinds.map((k) => [k, this.#counts.get(k) ?? 0])) as AnomalyCounts<A>;
  }

  /** Examples by kind. */
  examples(): AnomalyExamples<A> {
    // Every kind is a key, and each list holds only anomalies of its kind (see `add`).
    return Object.fromEntries(
      this.#kinds.map((k) => [k, this.#examples.get(k) ?? []]),
    ) as unknown as AnomalyExamples<A>;
  }

  /** The first example of each kind that has one, with its count, in the kinds' order. */
  firsts(): Array<{ kind: A['kind']; count: number; first: A }> {
    const out: Array<{ kind: A['kind']; count: number; first: A }> = [];
    for (const k of this.#kinds) {
      const first = this.#examples.get(k)?.[0];
      const count = this.#counts.get(k) ?? 0;
      if (first && count > 0) out.push({ kind: k, count, first });
    }
    return out;
  }
}

/** `1 gap`, `3 gaps`: a count with its noun, for summaries. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? noun : nouns}`;
}

/** A payload shortened for a summary line. */
export function brief(value: unknown, maxChars = 60): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}
