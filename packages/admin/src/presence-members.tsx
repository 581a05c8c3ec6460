import { getJson } from './api';
import { channelPath, formatTime } from './channel-types';
import { JsonView } from './json-view';
import { consoleHref, Link } from './nav';
import { ListStatus, Pager, usePagedList } from './paged-list';

/** Members per presence page. */
const MEMBERS_PER_PAGE = 50;

interface Member {
  readonly user: string;
  readonly info?: unknown;
  readonly entries: readonly { clientId: string; state: unknown; enteredAt: number; updatedAt: number }[];
}

/** The channel's presence members (one per user), paged on the server by user id. */
export function PresenceMembers({ channel }: { channel: string }) {
  const list = usePagedList<Member>(channel, async (after) => {
    const q = new URLSearchParams({ limit: String(MEMBERS_PER_PAGE) });
    if (after !== undefined) q.set('after', after);
    const r = await getJson<{ members: Member[]; next?: string }>(channelPath(channel, `/presence?${q}`));
    return { items: r.members, next: r.next };
  });
  return (
    <section aria-labelledby="presence-title" className="panel">
      <header className="panel-head">
        <h2 id="presence-title">Presence</h2>
        <button type="button" className="secondary" onClick={list.reload} disabled={list.loading}>
          Refresh
        </button>
      </header>
      <div className="table-wrap">
        <table className="list">
          <caption className="sr-only">Presence members</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col" className="num">
                Entries
              </th>
              <th scope="col">Since</th>
              <th scope="col">State (first entry)</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((m) => (
              <tr key={m.user}>
                <th scope="row" className="mono">
                  <Link href={consoleHref('users', m.user)}>{m.user}</Link>
                </th>
                <td className="num">{m.entries.length}</td>
                <td>{formatTime(m.entries[0]?.enteredAt)}</td>
                <td className="wrap">
                  <JsonView value={m.entries[0]?.state ?? null} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ListStatus list={list} empty="Nobody is present." />
      <Pager list={list} label="Presence pages" />
    </section>
  );
}
