import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '@syncline/server';
import { defer } from './helpers.js';

/** The secret proxy requests are signed with in the proxy tests. */
export const PROXY_SECRET = 'proxy-secret-0123456789-abcdefghijklmn';

/** One request the backend got. */
export interface Call {
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly signed: boolean;
}

/** How the backend answers a request: a status and JSON, `'hang'` (never), or a promise of either (answered later). */
export type Answer = { status?: number; json?: unknown } | 'hang';

/**
 * The app's backend on loopback: answers each proxy request with
 * `answer(path, body)`; records every call and its signature check, and
 * how many requests are open at once per path (`maxOpen`).
 */
export async function backend(answer: (path: string, body: Record<string, unknown>) => Answer | Promise<Answer>) {
  const calls: Call[] = [];
  const hanging: ServerResponse[] = [];
  const open = new Map<string, number>();
  const maxOpen = new Map<string, number>();
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (d: Buffer) => {
      text += d.toString();
    });
    req.on('end', async () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      const signed = verifySignature(PROXY_SECRET, req.headers['syncline-signature'] as string | undefined, text);
      const path = req.url ?? '';
      calls.push({ path, body, signed });
      open.set(path, (open.get(path) ?? 0) + 1);
      maxOpen.set(path, Math.max(maxOpen.get(path) ?? 0, open.get(path) ?? 0));
      const a = await answer(path, body);
      if (a === 'hang') {
        hanging.push(res);
        return;
      }
      open.set(path, (open.get(path) ?? 1) - 1);
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json' });
      res.end(a.json === undefined ? '' : JSON.stringify(a.json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(
    () =>
      new Promise<void>((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, calls, maxOpen };
}
