import { useId, useState } from 'react';
import { getJson } from './api';
import { formatNumber } from './format';
import { consoleHref, Link, readQuery, useQueryParam } from './nav';
import { ListStatus, Pager, useDebounced, usePagedList } from './paged-list';

/** Channels shown per page. */
const CHANNELS_PER_PAGE = 50;

/** One channel of `GET /v1/channels`. */
interface ChannelRow {
  readonly channel: string;
  readonly subscribers: number;
  readonly present: number;
}

/** Active channels by name prefix, paged on the server, with cluster-wide counts. */
export function ChannelsPage() {
  const [typed, setTyped] = useState(() => readQuery('prefix'));
  const prefix = useDebounced(typed.trim());
  useQueryParam('prefix', typed);
  const searchId = useId();
  const list = usePagedList<ChannelRow>(prefix, async (after) => {
    const q = new URLSearchParams({ limit: String(CHANNELS_PER_PAGE) });
    if (prefix) q.set('prefix', prefix);
    if (after !== undefined) q.set('after', after);
    const r = await getJson<{ channels: ChannelRow[]; next?: string }>(`/v1/channels?${q}`);
    return { items: r.channels, next: r.next };
  });

  return (
    <section aria-labelledby="page-title" className="page">
      <header className="page-head">
        <h1 id="page-title">Channels</h1>
      </header>
      <p className="hint">Channels with subscribers or presence on any node, by name. Counts cover every node.</p>
      <div className="search">
        <label htmlFor={searchId}>Name starts with</label>
        <input
          id={searchId}
          type="search"
          value={typed}
          maxLength={255}
          placeholder="chat:"
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => setTyped(e.target.value)}
        />
      </div>
      <div className="table-wrap">
        <table className="list" data-testid="channels-table">
          <caption className="sr-only">Channels</caption>
          <thead>
            <tr>
              <th scope="col">Channel</th>
              <th scope="col" className="num">
                Subscribers
              </th>
              <th scope="col" className="num">
                Present
              </th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((c) => (
              <tr key={c.channel} data-channel={c.channel}>
                <th scope="row" className="mono">
                  <Link href={consoleHref('channels', c.channel)}>{c.channel}</Link>
                </th>
                <td className="num">{formatNumber(c.subscribers)}</td>
                <td className="num">{formatNumber(c.present)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ListStatus list={list} empty={prefix ? `No active channel starts with "${prefix}".` : 'No active channel.'} />
      <Pager list={list} label="Channel pages" />
    </section>
  );
}
