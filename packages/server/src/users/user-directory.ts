import { CLOSE_CODES, type CloseCodeName } from '@syncline/protocol';
import type { NodeCalls, NodesAnswered } from '../cluster/node-calls.js';
import type { Session } from '../session/session.js';
import { type ConnectionDetails, connectionDetails } from './connection-details.js';
import { parseConnections, parseUserCounts, type UserCount } from './user-directory-replies.js';

/** Node bus channel of the user directory's queries (body `{ op, … }`). */
export const USER_QUERIES_CHANNEL = '$syncline:user-queries';

/** Largest page of users (`GET /v1/users` `limit`). */
export const MAX_USERS_PAGE = 1_000;

/** Most connections one answer of `connections` lists (`total` counts them all). */
export const MAX_CONNECTIONS_LISTED = 100;

/** What the user directory reads of its node. */
export interface UserDirectoryHost {
  readonly nodeId: string;
  /** Connected users after `after` starting with `prefix`, in id order, at most `limit`. */
  usersAfter(prefix: string, after: string, limit: number): UserCount[];
  /** Connected sessions of a user on this node. */
  sessionsOf(user: string): ReadonlySet<Session>;
  /** The open session with this id on this node, if any. */
  find(id: string): Session | undefined;
  /** The client address a session was admitted under. */
  addressOf(session: Session): string;
}

/** A page of connected users over every node that answered. */
export interface UsersPage {
  readonly users: readonly UserCount[];
  /** Pass as `after` for the next page; undefined on the last one. */
  readonly next: string | undefined;
  readonly nodes: NodesAnswered;
  readonly partial: boolean;
}

/** A user's connections over every node that answered. */
export interface UserConnectionList {
  /** The oldest first, at most `MAX_CONNECTIONS_LISTED`. */
  readonly connections: readonly ConnectionDetails[];
  /** Connections of the user on the nodes that answered. */
  readonly total: number;
  /** True when `total` is more than the connections listed. */
  readonly truncated: boolean;
  readonly nodes: NodesAnswered;
  readonly partial: boolean;
}

/** Outcome of closing one connection. */
export interface ConnectionClosed {
  /** 1 when a node had the connection and closed it. */
  readonly disconnected: 0 | 1;
  readonly nodes: NodesAnswered;
  /** True when no node that answered had it and some node did not answer: it may be there. */
  readonly partial: boolean;
}

type UserQuery =
  | { readonly op: 'users'; readonly prefix: string; readonly after: string; readonly limit: number }
  | { readonly op: 'connections'; readonly user: string }
  | { readonly op: 'close'; readonly id: string; readonly close: CloseCodeName; readonly reason: string };

function byAge(a: ConnectionDetails, b: ConnectionDetails): number {
  return a.connectedAt - b.connectedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Connected users and their connections over every node of a cluster: each
 * query is answered from this node's sessions and sent to the other nodes
 * over the node bus (`NodeCalls`), which answer from theirs within
 * `waitMs`; the answer merges them and says how many nodes it covers.
 * Every reply is bounded: a page of at most `limit + 1` users, at most
 * `MAX_CONNECTIONS_LISTED` connections.
 */
export class UserDirectory {
  readonly #host: UserDirectoryHost;
  readonly #calls: NodeCalls;
  readonly #waitMs: number;

  constructor(host: UserDirectoryHost, calls: NodeCalls, waitMs: number) {
    this.#host = host;
    this.#calls = calls;
    this.#waitMs = waitMs;
    calls.serve(USER_QUERIES_CHANNEL, (body) => this.#answer(body as Partial<UserQuery>));
  }

  /**
   * Connected users whose id starts with `prefix`, after `after` in id
   * order, at most `limit`, with their connections summed over the nodes.
   * Each node sends its first `limit + 1`: every user of the page is in the
   * reply of each node it is connected to, so its count is complete.
   */
  async users(prefix: string, after: string, limit: number): Promise<UsersPage> {
    const local = this.#host.usersAfter(prefix, after, limit + 1);
    const query: UserQuery = { op: 'users', prefix, after, limit };
    const { replies, nodes, partial } = await this.#calls.gather(USER_QUERIES_CHANNEL, query, {
      waitMs: this.#waitMs,
      parse: (reply) => parseUserCounts(reply, limit + 1),
    });
    const counts = new Map<string, number>();
    for (const list of [local, ...replies.values()]) {
      for (const { user, connections } of list) counts.set(user, (counts.get(user) ?? 0) + connections);
    }
    const ids = [...counts.keys()].filter((u) => u > after && u.startsWith(prefix)).sort();
    const users = ids.slice(0, limit).map((user) => ({ user, connections: counts.get(user) ?? 0 }));
    const next = ids.length > limit ? users.at(-1)?.user : undefined;
    return { users, next, nodes, partial };
  }

  /** The user's connections on every node, the oldest first (at most `MAX_CONNECTIONS_LISTED`). */
  async connections(user: string): Promise<UserConnectionList> {
    const local = this.#localConnections(user);
    const { replies, nodes, partial } = await this.#calls.gather(
      USER_QUERIES_CHANNEL,
      { op: 'connections', user } satisfies UserQuery,
      { waitMs: this.#waitMs, parse: (reply) => parseConnections(reply, MAX_CONNECTIONS_LISTED) },
    );
    let total = local.total;
    const all = [...local.connections];
    for (const r of replies.values()) {
      total += r.total;
      all.push(...r.connections);
    }
    const connections = all.sort(byAge).slice(0, MAX_CONNECTIONS_LISTED);
    return { connections, total, truncated: total > connections.length, nodes, partial };
  }

  /**
   * Closes the connection with this id wherever it is. A connection of this
   * node is closed without asking the others; otherwise the wait ends at
   * the reply of the node that had it.
   */
  async close(id: string, close: CloseCodeName, reason: string): Promise<ConnectionClosed> {
    if (this.#closeLocal(id, close, reason) === 1) {
      return { disconnected: 1, nodes: { answered: 1, expected: 1 }, partial: false };
    }
    const { replies, nodes, partial } = await this.#calls.gather(
      USER_QUERIES_CHANNEL,
      { op: 'close', id, close, reason } satisfies UserQuery,
      { waitMs: this.#waitMs, parse: (r) => (r === 0 || r === 1 ? r : undefined), enough: (r) => r === 1 },
    );
    const found = [...replies.values()].includes(1);
    return { disconnected: found ? 1 : 0, nodes, partial: !found && partial };
  }

  #localConnections(user: string): { total: number; connections: ConnectionDetails[] } {
    const sessions = [...this.#host.sessionsOf(user)];
    const { nodeId } = this.#host;
    const connections = sessions
      .map((s) => connectionDetails(s, nodeId, this.#host.addressOf(s)))
      .sort(byAge)
      .slice(0, MAX_CONNECTIONS_LISTED);
    return { total: sessions.length, connections };
  }

  #closeLocal(id: string, close: CloseCodeName, reason: string): 0 | 1 {
    const session = this.#host.find(id);
    if (!session || session.closed) return 0;
    session.close(close, reason);
    return 1;
  }

  /** Answers a query of another node from this node's sessions. */
  #answer(q: Partial<UserQuery>): unknown {
    switch (q.op) {
      case 'users': {
        const limit = typeof q.limit === 'number' && q.limit >= 0 ? Math.min(q.limit, MAX_USERS_PAGE) : 0;
        const list = this.#host.usersAfter(String(q.prefix ?? ''), String(q.after ?? ''), limit + 1);
        return list.map((u) => [u.user, u.connections]);
      }
      case 'connections':
        if (typeof q.user !== 'string') throw new TypeError('connections query without user');
        return this.#localConnections(q.user);
      case 'close': {
        if (typeof q.id !== 'string') throw new TypeError('close without connection id');
        const close = q.close !== undefined && q.close in CLOSE_CODES ? q.close : 'FORCE_DISCONNECT';
        return this.#closeLocal(q.id, close, String(q.reason ?? 'disconnected by server'));
      }
      default:
        throw new TypeError(`unknown user query ${String(q.op)}`);
    }
  }
}
