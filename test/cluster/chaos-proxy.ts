import { connect, createServer, type Server, type Socket } from 'node:net';
import { defer } from '../helpers.js';

/**
 * A TCP proxy on 127.0.0.1 in front of one node slot. Its target can change
 * (a restarted node listens on a new port) or be unset (the slot is down:
 * new connections are closed at once, as a refused connection would be).
 * The test cuts connections through it to simulate network failures.
 */
export interface CutProxy {
  /** `http://127.0.0.1:port` of the proxy (what clients connect to). */
  readonly url: string;
  /** `http://127.0.0.1:port` of the node behind it, or undefined while the slot is down. */
  target: string | undefined;
  /** Open client connections. */
  readonly connections: number;
  /** Connections cut so far by `cut` and `cutAll`. */
  readonly cuts: number;
  /** Destroys one open connection, chosen by `pick(count)` (an index below count); false when none was open. */
  cut(pick: (count: number) => number): boolean;
  /** Destroys every open connection; returns how many. */
  cutAll(): number;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

/** Starts a cuttable TCP proxy to `target` (an `http://127.0.0.1:port` URL); closed after the test. */
export async function startCutProxy(target: string | undefined): Promise<CutProxy> {
  const pairs = new Set<Pair>();
  let cuts = 0;
  const state = { target };
  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    const t = state.target;
    if (t === undefined) {
      client.destroy();
      return;
    }
    const u = new URL(t);
    const upstream = connect(Number(u.port), u.hostname);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop);
    upstream.on('close', drop);
    client.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const destroy = (p: Pair): void => {
    pairs.delete(p);
    p.client.destroy();
    p.upstream.destroy();
  };
  defer(
    () =>
      new Promise<void>((resolve) => {
        for (const p of [...pairs]) destroy(p);
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    get target() {
      return state.target;
    },
    set target(t: string | undefined) {
      state.target = t;
    },
    get connections() {
      return pairs.size;
    },
    get cuts() {
      return cuts;
    },
    cut(pick) {
      const all = [...pairs];
      if (all.length === 0) return false;
      const p = all[Math.min(all.length - 1, Math.max(0, pick(all.length)))] as Pair;
      destroy(p);
      cuts++;
      return true;
    },
    cutAll() {
      const all = [...pairs];
      for (const p of all) destroy(p);
      cuts += all.length;
      return all.length;
    },
  };
}
