import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { defer } from './helpers.js';

/** What the test proxy does with WebSocket upgrades and responses. */
export interface ProxyMode {
  /** `refuse`: answer 403; `hang`: accept the socket and never answer; `pass`: tunnel to the server. */
  upgrades: 'refuse' | 'hang' | 'pass';
  /** Buffer whole responses before forwarding (a proxy that breaks streaming). */
  buffer: boolean;
  /** Answer every request with 503 (the server looks down). */
  down: boolean;
}

/** A tiny HTTP reverse proxy on 127.0.0.1 in front of a test server. */
export interface TestProxy {
  readonly url: string;
  readonly mode: ProxyMode;
  /** Upgrade requests seen. */
  readonly upgrades: number;
  /** Requests seen, by `METHOD path-prefix` (`GET /connect/sse`). */
  readonly requests: string[];
  /** Destroys every open client connection (a network cut). */
  cut(): void;
}

/** Starts a proxy to `target` (`http://127.0.0.1:port`); closed after the test. */
export async function startProxy(target: string, mode: Partial<ProxyMode> = {}): Promise<TestProxy> {
  const t = new URL(target);
  const m: ProxyMode = { upgrades: 'refuse', buffer: false, down: false, ...mode };
  const sockets = new Set<Duplex>();
  const requests: string[] = [];
  let upgrades = 0;

  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${(req.url ?? '').split('/').slice(0, 3).join('/')}`);
    if (m.down) {
      res.writeHead(503, { connection: 'close' });
      res.end();
      return;
    }
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (ur: IncomingMessage) => {
        if (m.buffer) {
          const chunks: Buffer[] = [];
          ur.on('data', (c: Buffer) => chunks.push(c));
          ur.on('end', () => {
            const headers = { ...ur.headers };
            delete headers['transfer-encoding'];
            const body = Buffer.concat(chunks);
            headers['content-length'] = String(body.length);
            res.writeHead(ur.statusCode ?? 502, headers);
            res.end(body);
          });
          return;
        }
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrades++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    if (m.down || m.upgrades === 'refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (m.upgrades === 'hang') return;
    const up = connect(Number(t.port), t.hostname, () => {
      let head0 = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) head0 += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      up.write(`${head0}\r\n`);
      if (head.length > 0) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('close', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  defer(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    mode: m,
    get upgrades() {
      return upgrades;
    },
    requests,
    cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}
