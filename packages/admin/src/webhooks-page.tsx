import { useCallback, useEffect, useState } from 'react';
import { getJson, sendJson } from './api';
import { ConfirmStep } from './confirm-step';
import { type Delivery, formatTime, query, type WebhookSummary } from './console-requests';
import { useCursorList } from './cursor-list';
import { formatUptime } from './format';

const PAGE_SIZE = 50;
/** How often the counts are read again, ms. */
const SUMMARY_EVERY_MS = 5_000;

function Counts({ summary, now }: { summary: WebhookSummary; now: number }) {
  const age = summary.oldestPendingAt === null ? '–' : formatUptime((now - summary.oldestPendingAt) / 1000);
  return (
    <dl className="stats" aria-label="Webhook outbox">
      <div className="stat">
        <dt>Queue depth</dt>
        <dd data-testid="wh-pending">{summary.pending}</dd>
      </div>
      <div className="stat">
        <dt>Oldest pending</dt>
        <dd>{age}</dd>
      </div>
      <div className="stat">
        <dt>Failed</dt>
        <dd data-testid="wh-failed">{summary.failed}</dd>
      </div>
      <div className="stat">
        <dt>Receivers</dt>
        <dd>{summary.receivers}</dd>
      </div>
    </dl>
  );
}

/** One delivery row, with its retry (through a confirm step) when it failed. */
function DeliveryRow({ d, csrf, onRetried }: { d: Delivery; csrf: string; onRetried: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const path = `/v1/webhooks/deliveries/${d.id}/retry`;
  return (
    <li className="delivery" data-delivery={d.id}>
      <p>
        <span className="mono">#{d.id}</span> <span className="badge bad">{d.status}</span>{' '}
        <span className="mono">{d.event.type}</span> to <span className="mono">{d.url}</span>
      </p>
      <p className="muted">
        {d.attempts} attempt{d.attempts === 1 ? '' : 's'}, since {formatTime(d.createdAt)}
        {d.lastError ? `; last error: ${d.lastError}` : ''}; event {d.event.id}
      </p>
      <pre className="request">{JSON.stringify(d.event.data).slice(0, 500)}</pre>
      {d.status === 'failed' &&
        (confirming ? (
          <ConfirmStep
            write={{ method: 'POST', path, summary: `Send delivery #${d.id} again now, with a fresh retry window.` }}
            send={async () => {
              await sendJson(path, 'POST', csrf);
              setConfirming(false);
              onRetried();
            }}
            onCancel={() => setConfirming(false)}
            confirmLabel="Retry"
          />
        ) : (
          <button type="button" onClick={() => setConfirming(true)}>
            Retry #{d.id}…
          </button>
        ))}
    </li>
  );
}

/** The Webhooks page: the outbox's counts, and the failed (or pending) deliveries, paged, with retries. */
export function WebhooksPage({ csrf }: { csrf: string }) {
  const [summary, setSummary] = useState<WebhookSummary | undefined>();
  const [status, setStatus] = useState<'failed' | 'pending'>('failed');
  const [now, setNow] = useState(Date.now());
  const readSummary = useCallback(() => {
    getJson<WebhookSummary>('/admin/api/webhooks').then(
      (s) => {
        setSummary(s);
        setNow(Date.now());
      },
      () => undefined,
    );
  }, []);
  useEffect(() => {
    readSummary();
    const t = setInterval(readSummary, SUMMARY_EVERY_MS);
    return () => clearInterval(t);
  }, [readSummary]);
  const list = useCursorList<Delivery, number>(status, async (after) => {
    const page = await getJson<{ deliveries: Delivery[] }>(
      `/v1/webhooks/deliveries${query({ status, after, limit: PAGE_SIZE })}`,
    );
    const last = page.deliveries[page.deliveries.length - 1];
    return { items: page.deliveries, next: page.deliveries.length === PAGE_SIZE ? last?.id : undefined };
  });
  const retried = () => {
    list.reload();
    readSummary();
  };

  return (
    <section aria-labelledby="page-title" className="page">
      <header className="page-head">
        <h1 id="page-title">Webhooks</h1>
      </header>
      {summary?.receivers === 0 && (
        <p className="placeholder" data-testid="wh-none">
          No webhooks are configured on this node (the <code>webhooks</code> option): nothing is sent, nothing is
          queued.
        </p>
      )}
      {summary && <Counts summary={summary} now={now} />}
      <div className="charts-head">
        <h2>{status === 'failed' ? 'Failed deliveries' : 'Pending deliveries'}</h2>
        <label>
          Show{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value as 'failed' | 'pending')}>
            <option value="failed">failed</option>
            <option value="pending">pending</option>
          </select>
        </label>
      </div>
      {list.error && (
        <p role="alert" className="error">
          {list.error}
        </p>
      )}
      <ul className="deliveries" data-testid="deliveries">
        {list.items.map((d) => (
          <DeliveryRow key={d.id} d={d} csrf={csrf} onRetried={retried} />
        ))}
      </ul>
      {!list.loading && list.items.length === 0 && !list.error && (
        <p className="muted" data-testid="deliveries-empty">
          No {status} deliveries.
        </p>
      )}
      <p className="pager" aria-live="polite">
        {list.loading ? 'Loading…' : `${list.items.length} shown`}
        {list.hasMore && (
          <button type="button" onClick={list.more} disabled={list.loading}>
            Load more
          </button>
        )}
        <button type="button" onClick={retried}>
          Refresh
        </button>
      </p>
    </section>
  );
}
