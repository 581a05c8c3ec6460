import { type AppUpdateInfo, type AppVersionConfig, updateStatusFor } from '@syncline/protocol';
import type { NodeCalls, NodesAnswered } from '../cluster/node-calls.js';
import type { Session } from '../session/session.js';

/** Node bus channel on which a node asks the others for their clients' app versions. */
export const CLIENT_VERSIONS_CHANNEL = '$syncline:app-clients';
/** Most app versions one node reports (its most used; the rest are counted in `unlisted`). */
export const MAX_CLIENT_VERSIONS = 1_000;
/** App versions `GET /v1/app/clients` lists without `limit`. */
export const DEFAULT_CLIENT_VERSIONS_LIMIT = 100;

/** Connected clients of one app version, and the verdict on it. */
export interface ClientVersionCount {
  /** The app version the clients sent at connect (null: none sent). */
  readonly version: string | null;
  /** Connections with it, over the nodes that answered. */
  readonly connections: number;
  /** What the settings in force say about it (`none`: current). */
  readonly status: AppUpdateInfo['status'];
}

/** Connected clients by app version, over every node that answered. */
export interface ClientVersionList {
  /** The most used app versions first (then by version), at most the asked `limit`. */
  readonly versions: readonly ClientVersionCount[];
  /** Connections counted, on every node that answered. */
  readonly connections: number;
  /** Of which on app versions not listed (past `limit`, or past what a node reports). */
  readonly unlisted: number;
  /** Connections by verdict, of every app version the nodes reported (listed or not). */
  readonly byStatus: Readonly<Record<AppUpdateInfo['status'], number>>;
  readonly nodes: NodesAnswered;
  readonly partial: boolean;
}

/** One node's counts (a node call's reply). */
interface NodeCounts {
  /** `[version, connections]`, the most used first, at most {@link MAX_CLIENT_VERSIONS}. */
  readonly counts: ReadonlyArray<readonly [string | null, number]>;
  /** Every connected session of the node. */
  readonly connections: number;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

/** Another node's counts; undefined when the reply is not one (at most {@link MAX_CLIENT_VERSIONS} entries kept). */
export function parseNodeCounts(reply: unknown): NodeCounts | undefined {
  const r = reply as { counts?: unknown; connections?: unknown } | null;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.counts) || !isCount(r.connections)) return undefined;
  const counts = r.counts.slice(0, MAX_CLIENT_VERSIONS);
  const ok = counts.every(
    (c: unknown) =>
      Array.isArray(c) &&
      c.length === 2 &&
      (c[0] === null || (typeof c[0] === 'string' && c[0].length <= 100)) &&
      isCount(c[1]),
  );
  return ok ? { counts: counts as NodeCounts['counts'], connections: r.connections } : undefined;
}

const byUse = (a: readonly [string | null, number], b: readonly [string | null, number]): number =>
  b[1] - a[1] || (a[0] ?? '').localeCompare(b[0] ?? '');

/**
 * Connected clients by app version across the cluster, each with the
 * verdict of the settings in force: every node counts its own connected
 * sessions (one pass, no state kept per version) and the node that is asked
 * sums the replies that come within `waitMs`.
 */
export class ClientVersions {
  readonly #sessions: ReadonlySet<Session>;
  readonly #config: () => AppVersionConfig | undefined;
  readonly #calls: NodeCalls;
  readonly #waitMs: number;

  constructor(
    sessions: ReadonlySet<Session>,
    config: () => AppVersionConfig | undefined,
    calls: NodeCalls,
    waitMs: number,
  ) {
    this.#sessions = sessions;
    this.#config = config;
    this.#calls = calls;
    this.#waitMs = waitMs;
    calls.serve(CLIENT_VERSIONS_CHANNEL, () => this.#local());
  }

  /** The `limit` most used app versions of the connected clients of every node that answers in time. */
  async list(limit: number): Promise<ClientVersionList> {
    const local = this.#local();
    const { replies, nodes, partial } = await this.#calls.gather(
      CLIENT_VERSIONS_CHANNEL,
      {},
      { waitMs: this.#waitMs, parse: parseNodeCounts },
    );
    const sums = new Map<string | null, number>();
    let connections = 0;
    for (const r of [local, ...replies.values()]) {
      connections += r.connections;
      for (const [version, n] of r.counts) sums.set(version, (sums.get(version) ?? 0) + n);
    }
    const config = this.#config();
    const byStatus = { none: 0, available: 0, required: 0 };
    const all = [...sums].sort(byUse).map(([version, n]) => {
      const { status } = updateStatusFor(version ?? undefined, config);
      byStatus[status] += n;
      return { version, connections: n, status };
    });
    const versions = all.slice(0, limit);
    const listed = versions.reduce((t, v) => t + v.connections, 0);
    return { versions, connections, unlisted: connections - listed, byStatus, nodes, partial };
  }

  #local(): NodeCounts {
    const counts = new Map<string | null, number>();
    let connections = 0;
    for (const s of this.#sessions) {
      if (s.state !== 'connected') continue;
      connections++;
      const version = s.app?.version ?? null;
      counts.set(version, (counts.get(version) ?? 0) + 1);
    }
    return { counts: [...counts].sort(byUse).slice(0, MAX_CLIENT_VERSIONS), connections };
  }
}
