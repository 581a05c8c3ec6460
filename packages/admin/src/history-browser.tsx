import { getJson } from './api';
import { channelPath, formatTime, type PublicationRow } from './channel-types';
import { JsonView } from './json-view';
import { ListStatus, Pager, usePagedList } from './paged-list';

/** Publications per history page. */
const HISTORY_PER_PAGE = 20;
/** A `before` above any offset: the newest page (15 digits, the API's bound). */
const NEWEST = '999999999999999';

interface HistoryPage {
  readonly publications: PublicationRow[];
  readonly prev?: number;
}

/**
 * The channel's retained publications, newest first, paging back in time
 * with the API's `before` cursor. `generation` changes start over at the
 * newest page (after a publish from this page).
 */
export function HistoryBrowser({ channel, generation }: { channel: string; generation: number }) {
  const list = usePagedList<PublicationRow>(`${channel}\n${generation}`, async (before) => {
    const q = new URLSearchParams({ before: before ?? NEWEST, limit: String(HISTORY_PER_PAGE) });
    const r = await getJson<HistoryPage>(channelPath(channel, `/history?${q}`));
    return { items: [...r.publications].reverse(), next: r.prev === undefined ? undefined : String(r.prev) };
  });
  return (
    <section aria-labelledby="history-title" className="panel">
      <header className="panel-head">
        <h2 id="history-title">History</h2>
        <button type="button" className="secondary" onClick={list.reload} disabled={list.loading}>
          Refresh
        </button>
      </header>
      <ol className="pubs" data-testid="history">
        {list.items.map((p) => (
          <li key={p.offset} data-offset={p.offset}>
            <span className="pub-meta mono">
              #{p.offset} · {formatTime(p.ts)}
            </span>
            <JsonView value={p.data} />
          </li>
        ))}
      </ol>
      <ListStatus list={list} empty="No retained publication (history is off, expired or nothing was published)." />
      <Pager list={list} label="History pages" labels={{ prev: 'Newer', next: 'Older' }} />
    </section>
  );
}
