import { useId, useState } from 'react';
import { getJson } from './api';
import { formatNumber } from './format';
import { consoleHref, Link, readQuery, useQueryParam } from './nav';
import { ListStatus, Pager, useDebounced, usePagedList } from './paged-list';

/** Users shown per page. */
const USERS_PER_PAGE = 50;

interface UserRow {
  readonly user: string;
  readonly connections: number;
}

/** Connected users (every node) by id prefix, paged on the server. */
export function UsersPage() {
  const [typed, setTyped] = useState(() => readQuery('prefix'));
  const prefix = useDebounced(typed.trim());
  useQueryParam('prefix', typed);
  const searchId = useId();
  const list = usePagedList<UserRow>(prefix, async (after) => {
    const q = new URLSearchParams({ limit: String(USERS_PER_PAGE) });
    if (prefix) q.set('prefix', prefix);
    if (after !== undefined) q.set('after', after);
    const r = await getJson<{ users: UserRow[]; next?: string; partial?: boolean }>(`/v1/users?${q}`);
    return { items: r.users, next: r.next };
  });

  return (
    <section aria-labelledby="page-title" className="page">
      <header className="page-head">
        <h1 id="page-title">Users</h1>
      </header>
      <p className="hint">Users connected now on any node, by id, with their number of connections.</p>
      <div className="search">
        <label htmlFor={searchId}>User id starts with</label>
        <input
          id={searchId}
          type="search"
          value={typed}
          maxLength={200}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => setTyped(e.target.value)}
        />
      </div>
      <div className="table-wrap">
        <table className="list" data-testid="users-table">
          <caption className="sr-only">Users</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col" className="num">
                Connections
              </th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((u) => (
              <tr key={u.user} data-user={u.user}>
                <th scope="row" className="mono">
                  <Link href={consoleHref('users', u.user)}>{u.user}</Link>
                </th>
                <td className="num">{formatNumber(u.connections)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ListStatus
        list={list}
        empty={prefix ? `No connected user's id starts with "${prefix}".` : 'Nobody is connected.'}
      />
      <Pager list={list} label="User pages" />
    </section>
  );
}
