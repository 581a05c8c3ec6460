import { createClient, type SynclineClient } from '@syncline/client';
import type { NodeSnapshot, OverviewAnswer, OverviewPoint } from '@syncline/server';
import { ApiError, getJson } from './api';

/** The server's overview channel (`ADMIN_OVERVIEW_CHANNEL`). */
const OVERVIEW_CHANNEL = 'syncline-admin:overview';
/** Points kept per node: an hour of 2 s snapshots. */
const MAX_POINTS = 1_800;
/** A node silent this long is shown as gone, ms. */
export const NODE_STALE_MS = 10_000;

/** What the overview shows: the last snapshot of every node and each node's points. */
export interface OverviewState {
  readonly nodes: ReadonlyMap<string, NodeSnapshot>;
  readonly points: ReadonlyMap<string, readonly OverviewPoint[]>;
  /** State of the live connection. */
  readonly live: 'connecting' | 'live' | 'offline';
}

/**
 * The console's live overview: every node's history from
 * `/admin/api/overview` (the node asks the others for theirs), then every
 * node's snapshots from the overview channel, over a Syncline connection authenticated with short-lived
 * console tokens. Binds to React through `subscribe` + `current`.
 */
export class LiveOverview {
  #state: OverviewState = { nodes: new Map(), points: new Map(), live: 'connecting' };
  readonly #listeners = new Set<() => void>();
  readonly #client: SynclineClient;

  /** `onSignedOut` runs when the session is gone (expired, signed out elsewhere, node restarted). */
  constructor(onSignedOut: () => void) {
    const getToken = async () => {
      try {
        return (await getJson<{ token: string }>('/admin/api/token')).token;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) onSignedOut();
        throw err;
      }
    };
    this.#client = createClient({
      url: window.location.origin,
      getToken,
      reconnect: { minDelayMs: 500, maxDelayMs: 5_000 },
      client: { name: 'syncline-console', version: '0.1.0' },
    });
    this.#client.on('state', (s) => {
      this.#set({ live: s.state === 'connected' ? 'live' : s.state === 'connecting' ? 'connecting' : 'offline' });
    });
    void this.#load();
    this.#client.subscribe(OVERVIEW_CHANNEL, {
      onPublication: (p) => this.#add(p.data as NodeSnapshot),
    });
  }

  /** The console's connection (read only: a channel page's live tail, a document page's live view). */
  get client(): SynclineClient {
    return this.#client;
  }

  /** The state now. */
  get current(): OverviewState {
    return this.#state;
  }

  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Closes the connection. */
  close(): void {
    this.#client.close();
    this.#listeners.clear();
  }

  async #load(): Promise<void> {
    const r = await getJson<OverviewAnswer>('/admin/api/overview').catch(() => undefined);
    if (!r) return;
    const all = [...(r.node ? [{ node: r.node, history: r.history }] : []), ...(r.others ?? [])];
    const points = new Map(this.#state.points);
    const nodes = new Map(this.#state.nodes);
    for (const o of all) {
      // Snapshots that came on the channel before the answer stay; the history goes before them.
      const later = points.get(o.node.node) ?? [];
      const first = later[0]?.ts ?? Number.POSITIVE_INFINITY;
      points.set(o.node.node, [...o.history.filter((p) => p.ts < first), ...later]);
      if (!nodes.has(o.node.node)) nodes.set(o.node.node, o.node);
    }
    this.#set({ nodes, points });
  }

  #add(s: NodeSnapshot): void {
    if (typeof s !== 'object' || s === null || typeof s.node !== 'string') return;
    const nodes = new Map(this.#state.nodes);
    nodes.set(s.node, s);
    const points = new Map(this.#state.points);
    const list = [...(points.get(s.node) ?? []), s];
    if (list.length > MAX_POINTS) list.splice(0, list.length - MAX_POINTS);
    points.set(s.node, list);
    this.#set({ nodes, points });
  }

  #set(patch: Partial<OverviewState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const l of this.#listeners) l();
  }
}
