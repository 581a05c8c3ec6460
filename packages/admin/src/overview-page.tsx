import type { NodeSnapshot, OverviewPoint } from '@syncline/server';
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { Chart } from './chart';
import { formatMs, formatNumber } from './format';
import { type LiveOverview, NODE_STALE_MS } from './live-overview';
import { NodesTable } from './nodes-table';
import { alignSeries, errorsByCode } from './series';

const RANGES_MIN = [15, 30, 60] as const;

const CHARTS: readonly {
  title: string;
  unit: string;
  /** What exactly is measured, under the title. */
  note?: string;
  pick: (p: OverviewPoint) => number | null;
}[] = [
  { title: 'Connections', unit: 'open', pick: (p) => p.connections },
  { title: 'Publications', unit: '/s', pick: (p) => p.publicationsPerSec },
  { title: 'Deliveries', unit: '/s', pick: (p) => p.deliveriesPerSec },
  { title: 'Mutations', unit: '/s', pick: (p) => p.mutationsPerSec },
  {
    title: 'p99 delivery latency',
    unit: 'ms',
    note: 'Arrival on the node → subscribers’ socket writes, sampled',
    // Nodes of an older version send none.
    pick: (p) => p.p99DeliveryMs ?? null,
  },
  {
    title: 'p99 broker publish time',
    unit: 'ms',
    note: 'Broker accepting and storing a publication',
    pick: (p) => p.p99PublishMs,
  },
  { title: 'Event-loop delay p99', unit: 'ms', pick: (p) => p.eventLoopP99Ms },
  { title: 'Errors sent to clients', unit: '/s', pick: (p) => p.errorsPerSec },
];

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}

/** Ticks every second so ages and staleness stay true without new data. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(t);
  }, []);
  return now;
}

/** The overview: nodes, totals, and charts of the last 15 to 60 minutes, live. */
export function OverviewPage({ live }: { live: LiveOverview }) {
  const state = useSyncExternalStore(live.subscribe, () => live.current);
  const now = useNow();
  const [rangeMin, setRangeMin] = useState<number>(15);
  const nodes = useMemo(() => [...state.nodes.values()].sort((a, b) => a.node.localeCompare(b.node)), [state.nodes]);
  const current = nodes.filter((n) => now - n.ts <= NODE_STALE_MS);
  const sum = (f: (n: NodeSnapshot) => number) => current.reduce((t, n) => t + f(n), 0);
  const worst = (pick: (n: NodeSnapshot) => number | null | undefined) =>
    current.reduce<number | null>((w, n) => {
      const v = pick(n);
      return v === null || v === undefined ? w : Math.max(w ?? 0, v);
    }, null);
  const since = now - rangeMin * 60_000;
  const names = nodes.map((n) => n.node);
  const perNode = names.map((n) => state.points.get(n) ?? []);
  const errors = errorsByCode(perNode, since);
  // A window longer than the data there is (a node just started) starts at the first point, so lines are readable.
  const first = Math.min(...perNode.map((points) => points.find((p) => p.ts >= since)?.ts ?? now));
  const windowStart = Math.max(since, Math.min(first, now - 60_000));

  return (
    <section aria-labelledby="overview-title" className="page">
      <header className="page-head">
        <h1 id="overview-title">Overview</h1>
        <p className={`live ${state.live}`} role="status" data-testid="live-state">
          {state.live === 'live' ? 'Live' : state.live === 'connecting' ? 'Connecting…' : 'Offline, retrying…'}
        </p>
      </header>
      <dl className="stats" aria-label="Totals over every node">
        <Stat label="Nodes" value={`${current.length}`} testId="total-nodes" />
        <Stat label="Connections" value={formatNumber(sum((n) => n.connections))} testId="total-connections" />
        <Stat label="Publications/s" value={formatNumber(sum((n) => n.publicationsPerSec))} />
        <Stat label="Deliveries/s" value={formatNumber(sum((n) => n.deliveriesPerSec))} />
        <Stat label="Mutations/s" value={formatNumber(sum((n) => n.mutationsPerSec))} />
        <Stat
          label="p99 delivery latency"
          value={formatMs(worst((n) => n.p99DeliveryMs))}
          testId="total-delivery-p99"
        />
        <Stat label="p99 broker publish time" value={formatMs(worst((n) => n.p99PublishMs))} />
      </dl>
      <h2>Nodes</h2>
      {nodes.length === 0 ? (
        <p className="muted">Waiting for the first snapshot…</p>
      ) : (
        <NodesTable nodes={nodes} now={now} />
      )}
      <div className="charts-head">
        <h2>Last {rangeMin} minutes</h2>
        <label>
          Range{' '}
          <select value={rangeMin} onChange={(e) => setRangeMin(Number(e.target.value))}>
            {RANGES_MIN.map((m) => (
              <option key={m} value={m}>
                {m} min
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="charts">
        {CHARTS.map((c) => (
          <Chart
            key={c.title}
            title={c.title}
            unit={c.unit}
            note={c.note}
            nodes={names}
            data={alignSeries(perNode, since, c.pick)}
            span={[windowStart / 1000, now / 1000]}
          />
        ))}
      </div>
      <h2>Errors by code</h2>
      {errors.length === 0 ? (
        <p className="muted">No errors sent to clients in the last {rangeMin} minutes.</p>
      ) : (
        <table className="errors">
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col" className="num">
                Count
              </th>
            </tr>
          </thead>
          <tbody>
            {errors.map(([code, n]) => (
              <tr key={code}>
                <td className="mono">{code}</td>
                <td className="num">{formatNumber(n)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
