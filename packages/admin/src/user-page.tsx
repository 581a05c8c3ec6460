import type { ConnectionDetails, NameList } from '@syncline/server';
import { useCallback, useEffect, useRef, useState } from 'react';
import { getJson, sendJson } from './api';
import { formatTime } from './channel-types';
import { ConfirmButton } from './confirm-button';
import { consoleHref, Link } from './nav';
import { UserMessage } from './user-message';

interface ConnectionsReply {
  readonly connections: ConnectionDetails[];
  readonly total: number;
  readonly truncated: boolean;
  readonly partial?: boolean;
}

/** `GET /v1/users/{user}/revoke`: whether the user's tokens issued before `before` are refused. */
interface RevocationReply {
  readonly revoked: boolean;
  readonly before?: number;
}

/** Whether the user is revoked, as the node enforces it, with since when ('unknown' when the read failed). */
function RevocationState({ revocation }: { revocation: RevocationReply | 'unknown' | undefined }) {
  if (!revocation) return null;
  return (
    <p className="hint" data-testid="revocation">
      {revocation === 'unknown' ? (
        <span className="badge warn">Revocation unknown</span>
      ) : revocation.revoked ? (
        <>
          <span className="badge bad">Revoked</span> since {formatTime(revocation.before)}: tokens issued before then
          are refused.
        </>
      ) : (
        <span className="badge ok">Not revoked</span>
      )}
    </p>
  );
}

function Names({ list }: { list: NameList }) {
  if (list.count === 0) return <span className="muted">none</span>;
  const more = list.count - list.names.length;
  return (
    <span className="names">
      {list.names.map((n) => (
        <Link key={n} href={consoleHref('channels', n)} className="mono">
          {n}
        </Link>
      ))}
      {more > 0 && <span className="muted"> and {more} more</span>}
    </span>
  );
}

/**
 * One user: every connection on every node (node, transport, codec,
 * protocol, app version, address, since, subscriptions), a confirmed
 * "Disconnect" per connection, whether the user is revoked (since when), a
 * confirmed "Revoke user" and, when revoked, "Lift revocation", and "Send a
 * message" (reviewed, then confirmed).
 */
export function UserPage({ user, csrf }: { user: string; csrf: string }) {
  const [reply, setReply] = useState<ConnectionsReply | undefined>();
  const [revocation, setRevocation] = useState<RevocationReply | 'unknown' | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  // After a write the focus goes to its outcome (the row it was in may be gone).
  const noticeRef = useRef<HTMLParagraphElement>(null);
  const told = (text: string) => {
    setNotice(text);
    setTimeout(() => noticeRef.current?.focus(), 0);
  };
  const path = `/v1/users/${encodeURIComponent(user)}`;
  const load = useCallback(() => {
    getJson<ConnectionsReply>(`${path}/connections`).then(
      (r) => {
        setReply(r);
        setError(undefined);
      },
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
    // A node that cannot say (e.g. an older version during a rolling upgrade) leaves the lift offered.
    getJson<RevocationReply>(`${path}/revoke`).then(setRevocation, () => setRevocation('unknown'));
  }, [path]);
  useEffect(load, [load]);

  const disconnect = async (id: string) => {
    await sendJson(`/v1/connections/${encodeURIComponent(id)}/disconnect`, 'POST', csrf, {
      reason: 'disconnected from the operator console',
    });
    told('Connection closed; the client reconnects by itself unless its user is revoked.');
    load();
  };
  const revoke = async () => {
    const r = await sendJson<{ disconnected: number }>(`${path}/revoke`, 'POST', csrf, {
      reason: 'revoked from the operator console',
    });
    told(`User revoked: ${r.disconnected} connection(s) closed; tokens issued so far are refused.`);
    load();
  };
  const lift = async () => {
    const r = await sendJson<{ lifted: boolean }>(`${path}/revoke`, 'DELETE', csrf);
    told(
      r.lifted
        ? 'Revocation lifted: the user may connect again with any valid token.'
        : `${user} had no revocation on this node; nothing to lift.`,
    );
    load();
  };

  const rows = reply?.connections ?? [];
  return (
    <section aria-labelledby="page-title" className="page">
      <p className="crumbs">
        <Link href={consoleHref('users')}>Users</Link> /
      </p>
      <header className="page-head">
        <h1 id="page-title" className="mono">
          {user}
        </h1>
        <button type="button" className="secondary" onClick={load}>
          Refresh
        </button>
        <ConfirmButton
          label="Revoke user"
          question={`Revoke ${user}? Every connection closes and tokens issued so far are refused.`}
          confirmLabel="Revoke"
          action={revoke}
        />
        {(revocation === 'unknown' || revocation?.revoked) && (
          <ConfirmButton
            label="Lift revocation"
            question={`Lift the revocation of ${user}? Tokens issued before it are accepted again.`}
            confirmLabel="Lift"
            action={lift}
          />
        )}
      </header>
      <RevocationState revocation={revocation} />
      <p role="status" className="notice" ref={noticeRef} tabIndex={-1}>
        {notice}
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="table-wrap">
        <table className="list" data-testid="connections-table">
          <caption className="sr-only">Connections of {user}</caption>
          <thead>
            <tr>
              <th scope="col">Connection</th>
              <th scope="col">Node</th>
              <th scope="col">Transport</th>
              <th scope="col">Codec</th>
              <th scope="col">Protocol</th>
              <th scope="col">App version</th>
              <th scope="col">Address</th>
              <th scope="col">Since</th>
              <th scope="col">Channels</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.id} data-connection={c.id}>
                <th scope="row" className="mono" title={c.id}>
                  {c.id.slice(0, 8)}…
                </th>
                <td className="mono">{c.node}</td>
                <td>{c.transport}</td>
                <td>{c.codec}</td>
                <td>{c.protocol}</td>
                <td>{c.app ? `${c.app.version}${c.app.build ? ` (${c.app.build})` : ''}` : '–'}</td>
                <td className="mono">{c.ip}</td>
                <td>{formatTime(c.connectedAt)}</td>
                <td className="wrap">
                  <Names list={c.channels} />
                  {(c.presence.count > 0 || c.docs.count > 0) && (
                    <span className="muted subs-more">
                      present in {c.presence.count}, documents {c.docs.count}
                    </span>
                  )}
                </td>
                <td>
                  <ConfirmButton
                    label="Disconnect"
                    question={`Close connection ${c.id.slice(0, 8)}… of ${user}?`}
                    confirmLabel="Disconnect"
                    action={() => disconnect(c.id)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {reply && rows.length === 0 && <p className="empty">No connection now.</p>}
      {reply?.truncated && (
        <p className="hint">
          Showing {rows.length} of {reply.total} connections.
        </p>
      )}
      {reply?.partial && <p className="hint">Some nodes did not answer in time; their connections are missing.</p>}
      <UserMessage user={user} csrf={csrf} path={path} />
    </section>
  );
}
