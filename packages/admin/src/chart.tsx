import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { AlignedData } from './series';

/** Line colours of the nodes' series, in order. */
const COLORS = ['#4f46e5', '#059669', '#d97706', '#db2777', '#0891b2', '#7c3aed', '#65a30d', '#dc2626'];

interface ChartProps {
  readonly title: string;
  /** Unit shown after values (`/s`, `ms`). */
  readonly unit: string;
  /** What exactly is measured, shown under the title. */
  readonly note?: string | undefined;
  readonly nodes: readonly string[];
  readonly data: AlignedData;
  /** The time window shown, seconds since the epoch: the whole range, even where there is no data yet. */
  readonly span: readonly [number, number];
}

/** One time-series chart (uPlot), one line per node; resizes with its box. */
export function Chart({ title, unit, note, nodes, data, span }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const range = useRef(span);
  range.current = span;
  const key = nodes.join(',');

  // biome-ignore lint/correctness/useExhaustiveDependencies: the plot is rebuilt only when its series change (key); data goes in below.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 160,
      legend: { show: nodes.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: (): uPlot.Range.MinMax => [range.current[0], range.current[1]] } },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#eef0f4' } },
        { stroke: '#6b7280', grid: { stroke: '#eef0f4' }, size: 50, values: (_u, vals) => vals.map((v) => `${v}`) },
      ],
      series: [
        {},
        ...nodes.map((n, i) => ({
          label: n,
          stroke: COLORS[i % COLORS.length] as string,
          width: 2,
          spanGaps: true,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${Math.round(v * 10) / 10} ${unit}`),
        })),
      ],
    };
    const u = new uPlot(opts, data as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: 160 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [key, unit]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return (
    <figure className="chart">
      <figcaption>
        {title} <span className="unit">({unit})</span>
        {note === undefined ? null : <span className="note">{note}</span>}
      </figcaption>
      <div ref={box} className="chart-box" role="img" aria-label={`${title} over time, one line per node`} />
    </figure>
  );
}
