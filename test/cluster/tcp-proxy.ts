import { connect, createServer, type Server, type Socket } from 'node:net';
import { defer } from '../helpers.js';

/** How a cut looks to the node: connections reset at once, or bytes silently dropped. */
export type CutMode = 'reset' | 'blackhole';

/** A TCP proxy on 127.0.0.1 that a test can cut and restore (a network partition to one service). */
export interface TcpProxy {
  readonly port: number;
  /**
   * Cuts the link: `reset` destroys every connection and refuses new ones;
   * `blackhole` keeps sockets open and holds every byte until `restore`.
   */
  cut(mode?: CutMode): void;
  /** Forwards again (new connections only after a `reset`). */
  restore(): void;
  /** Connections accepted so far. */
  readonly accepted: number;
}

/** Starts a cuttable proxy to `host:port`; closed after the test. */
export async function startTcpProxy(host: string, port: number): Promise<TcpProxy> {
  let state: 'open' | CutMode = 'open';
  let accepted = 0;
  const pairs = new Set<[Socket, Socket]>();
  let held: Array<() => void> = [];
  const server: Server = createServer((down) => {
    accepted++;
    if (state === 'reset') {
      down.destroy();
      return;
    }
    const up = connect(port, host);
    const pair: [Socket, Socket] = [down, up];
    pairs.add(pair);
    // While black-holed, bytes are held (as TCP retransmits would) and delivered on restore.
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (state === 'open') to.write(chunk);
        else held.push(() => to.write(chunk));
      });
    forward(down, up);
    forward(up, down);
    const end = () => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const listenPort = typeof address === 'object' && address ? address.port : 0;
  defer(
    () =>
      new Promise<void>((resolve) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => resolve());
      }),
  );
  return {
    port: listenPort,
    get accepted() {
      return accepted;
    },
    cut(mode = 'reset') {
      state = mode;
      if (mode === 'reset') {
        held = [];
        for (const [a, b] of [...pairs]) {
          a.destroy();
          b.destroy();
        }
      }
    },
    restore() {
      state = 'open';
      const writes = held;
      held = [];
      for (const w of writes) w();
    },
  };
}
