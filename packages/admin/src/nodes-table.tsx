import type { NodeSnapshot } from '@syncline/server';
import { formatMs, formatNumber, formatUptime } from './format';
import { NODE_STALE_MS } from './live-overview';

/** Status word of a node: gone (no snapshot lately), draining, ready or not ready. */
function status(n: NodeSnapshot, now: number): { text: string; tone: string } {
  if (now - n.ts > NODE_STALE_MS) return { text: 'no news', tone: 'bad' };
  if (n.draining) return { text: 'draining', tone: 'warn' };
  return n.ready ? { text: 'ready', tone: 'ok' } : { text: 'not ready', tone: 'bad' };
}

/** The nodes of the deployment, one row each. */
export function NodesTable({ nodes, now }: { nodes: readonly NodeSnapshot[]; now: number }) {
  return (
    <div className="table-wrap">
      <table className="nodes">
        <caption className="sr-only">Nodes</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Status</th>
            <th scope="col">Version</th>
            <th scope="col">Protocol</th>
            <th scope="col">Uptime</th>
            <th scope="col" className="num">
              Connections
            </th>
            <th scope="col" className="num">
              Pub/s
            </th>
            <th scope="col" className="num">
              Event loop p99
            </th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => {
            const s = status(n, now);
            return (
              <tr key={n.node} data-node={n.node}>
                <th scope="row" className="mono">
                  {n.node}
                </th>
                <td>
                  <span className={`badge ${s.tone}`}>{s.text}</span>
                </td>
                <td>{n.version}</td>
                <td>
                  {n.protocol.min}–{n.protocol.max}
                </td>
                <td>{formatUptime((n.ts - n.startedAt) / 1000)}</td>
                <td className="num" data-testid="node-connections">
                  {formatNumber(n.connections)}
                </td>
                <td className="num">{formatNumber(n.publicationsPerSec)}</td>
                <td className="num">{formatMs(n.eventLoopP99Ms)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
