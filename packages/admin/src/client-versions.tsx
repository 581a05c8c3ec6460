import type { ClientVersionList } from '@syncline/server';
import { useEffect, useState } from 'react';
import { getJson } from './api';
import { formatNumber } from './format';

/** App versions listed at first, and added by each "Show more". */
const STEP = 50;
/** The server's most (`MAX_CLIENT_VERSIONS`). */
const MAX = 1_000;

const VERDICT = {
  none: { label: 'Current', badge: 'ok' },
  available: { label: 'Update available', badge: 'warn' },
  required: { label: 'Update required', badge: 'bad' },
} as const;

/**
 * Connected clients by app version on every node, the most used first,
 * each with the verdict of the settings in force (`GET /v1/app/clients`);
 * read again when `generation` changes (after an announce) or on Refresh.
 */
export function ClientVersions({ generation }: { generation: number }) {
  const [limit, setLimit] = useState(STEP);
  const [tick, setTick] = useState(0);
  const [list, setList] = useState<ClientVersionList | undefined>();
  const [error, setError] = useState<string | undefined>();
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new generation or tick reads again on purpose
  useEffect(() => {
    let wanted = true;
    getJson<ClientVersionList>(`/v1/app/clients?limit=${limit}`).then(
      (r) => {
        if (!wanted) return;
        setList(r);
        setError(undefined);
      },
      (err: unknown) => {
        if (wanted) setError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => {
      wanted = false;
    };
  }, [limit, generation, tick]);

  return (
    <section aria-labelledby="clients-title">
      <div className="charts-head">
        <h2 id="clients-title">Connected clients by app version</h2>
        <button type="button" className="secondary" onClick={() => setTick((t) => t + 1)}>
          Refresh
        </button>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {list === undefined ? (
        !error && <p className="muted">Loading…</p>
      ) : (
        <>
          <p data-testid="client-totals">
            {formatNumber(list.connections)} connected client{list.connections === 1 ? '' : 's'}:{' '}
            {formatNumber(list.byStatus.none)} current, {formatNumber(list.byStatus.available)} with an update
            available, {formatNumber(list.byStatus.required)} that must update.
            {list.partial && (
              <span className="warn-text">
                {' '}
                {list.nodes.expected - list.nodes.answered} node(s) did not answer in time: counts may be short.
              </span>
            )}
          </p>
          <div className="table-wrap">
            <table className="list" data-testid="client-versions">
              <caption className="sr-only">Connected clients by app version</caption>
              <thead>
                <tr>
                  <th scope="col">App version</th>
                  <th scope="col" className="num">
                    Connections
                  </th>
                  <th scope="col">Verdict</th>
                </tr>
              </thead>
              <tbody>
                {list.versions.map((v) => (
                  <tr key={v.version ?? ''} data-version={v.version ?? ''}>
                    <th scope="row" className="mono">
                      {v.version ?? <span className="muted">none sent</span>}
                    </th>
                    <td className="num">{formatNumber(v.connections)}</td>
                    <td>
                      <span className={`badge ${VERDICT[v.status].badge}`}>{VERDICT[v.status].label}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {list.unlisted > 0 && (
            <p className="pager">
              {formatNumber(list.unlisted)} more on versions not listed.
              {limit < MAX && (
                <button type="button" onClick={() => setLimit((l) => Math.min(MAX, l + STEP))}>
                  Show more
                </button>
              )}
            </p>
          )}
        </>
      )}
    </section>
  );
}
