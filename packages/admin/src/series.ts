import type { OverviewPoint } from '@syncline/server';

/** A chart's data: shared time axis (seconds) and one series per node (null where it has no point). */
export type AlignedData = [number[], ...(number | null)[][]];

/** Time buckets series are aligned to, seconds. */
const BUCKET_SEC = 2;

/**
 * Aligns the points of several nodes on one time axis (2 s buckets) for
 * uPlot, keeping those after `sinceMs`; `pick` reads the charted value.
 */
export function alignSeries(
  nodes: readonly (readonly OverviewPoint[])[],
  sinceMs: number,
  pick: (p: OverviewPoint) => number | null,
): AlignedData {
  const times = new Set<number>();
  const byNode = nodes.map((points) => {
    const m = new Map<number, number | null>();
    for (const p of points) {
      if (p.ts < sinceMs) continue;
      const t = Math.round(p.ts / 1000 / BUCKET_SEC) * BUCKET_SEC;
      times.add(t);
      m.set(t, pick(p));
    }
    return m;
  });
  const xs = [...times].sort((a, b) => a - b);
  return [xs, ...byNode.map((m) => xs.map((t) => m.get(t) ?? null))];
}

/** Sum of errors by code over points after `sinceMs`, most frequent first. */
export function errorsByCode(nodes: readonly (readonly OverviewPoint[])[], sinceMs: number): [string, number][] {
  const totals = new Map<string, number>();
  for (const points of nodes) {
    for (const p of points) {
      if (p.ts < sinceMs) continue;
      for (const [code, n] of Object.entries(p.errors)) totals.set(code, (totals.get(code) ?? 0) + n);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}
