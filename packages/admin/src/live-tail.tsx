import type { SynclineClient } from '@syncline/client';
import { useEffect, useState } from 'react';
import { formatTime, type PublicationRow } from './channel-types';
import { JsonView } from './json-view';

/** Publications kept in the tail, newest first. */
const TAIL_MAX = 100;

/**
 * The channel's publications as they arrive, over the console's own
 * connection (its token may subscribe to app channels, never publish).
 */
export function LiveTail({ client, channel }: { client: SynclineClient; channel: string }) {
  const [rows, setRows] = useState<readonly PublicationRow[]>([]);
  const [state, setState] = useState<string>('subscribing');
  useEffect(() => {
    setRows([]);
    const sub = client.subscribe(channel, {
      onPublication: (p) =>
        setRows((r) => [{ offset: p.offset, data: p.data, ts: Date.now() }, ...r].slice(0, TAIL_MAX)),
    });
    setState(sub.state);
    const off = sub.subscribe(() => setState(sub.state));
    sub.ready.catch((err: unknown) => setState(`refused: ${err instanceof Error ? err.message : String(err)}`));
    return () => {
      off();
      sub.unsubscribe();
    };
  }, [client, channel]);

  return (
    <section aria-labelledby="tail-title" className="panel">
      <header className="panel-head">
        <h2 id="tail-title">Live tail</h2>
        <span className={`badge ${state === 'subscribed' ? 'ok' : 'warn'}`} data-testid="tail-state">
          {state}
        </span>
      </header>
      {rows.length === 0 ? (
        <p className="empty">Nothing published since this page opened.</p>
      ) : (
        <ol className="pubs" data-testid="tail" aria-live="polite">
          {rows.map((r) => (
            <li key={r.offset}>
              <span className="pub-meta mono">
                #{r.offset} · received {formatTime(r.ts)}
              </span>
              <JsonView value={r.data} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
