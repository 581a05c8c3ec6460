import { PROTOCOL_VERSION } from '@syncline/protocol';
import WebSocket from 'ws';
import { defer, token, waitFor } from './helpers.js';

/** A raw WebSocket connection that completed `connect`: its session id and node, and how it ended. */
export interface ConsoleSocket {
  readonly ws: WebSocket;
  /** Session id from the connect reply. */
  readonly id: string;
  /** Node id from the connect reply. */
  readonly node: string;
  readonly messages: Array<Record<string, unknown>>;
  /** Close code once the server closed the connection. */
  closedWith(): number | undefined;
  /** Sends one command and waits for its reply. */
  request(command: Record<string, unknown>): Promise<Record<string, unknown>>;
}

let nextRequest = 100;

/**
 * Opens a WebSocket to `url` (JSON codec) and completes `connect` for
 * `user`, announcing `app` when given; `headers` go with the upgrade
 * request (`X-Forwarded-For`). Terminated after the test.
 */
export async function consoleSocket(
  url: string,
  user: string,
  options: { app?: { version: string; build?: string }; headers?: Record<string, string> } = {},
): Promise<ConsoleSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/connect/ws`, ['syncline.json'], {
    headers: options.headers ?? {},
  });
  const messages: Array<Record<string, unknown>> = [];
  let closed: number | undefined;
  ws.on('message', (data) => {
    const v = JSON.parse(data.toString()) as unknown;
    messages.push(...((Array.isArray(v) ? v : [v]) as Array<Record<string, unknown>>));
  });
  ws.on('close', (code) => {
    closed = code;
  });
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  defer(() => ws.terminate());
  const reply = async (id: number): Promise<Record<string, unknown>> => {
    let found: Record<string, unknown> | undefined;
    await waitFor(
      () => {
        found = messages.find((m) => m.id === id);
        return found !== undefined || closed !== undefined;
      },
      10_000,
      `reply ${id}`,
    );
    if (found?.type !== 'reply') throw new Error(`request ${id} failed: ${JSON.stringify(found ?? { closed })}`);
    return found.result as Record<string, unknown>;
  };
  const connect: Record<string, unknown> = { type: 'connect', id: 1, protocol: PROTOCOL_VERSION };
  connect.token = await token(user);
  if (options.app) connect.app = options.app;
  ws.send(JSON.stringify(connect));
  const result = await reply(1);
  return {
    ws,
    id: result.session as string,
    node: result.node as string,
    messages,
    closedWith: () => closed,
    async request(command) {
      const id = nextRequest++;
      ws.send(JSON.stringify({ ...command, id }));
      return reply(id);
    },
  };
}

/** Opens `count` connections for the users `userOf(i)`, `batch` at a time. */
export async function consoleSockets(
  url: string,
  count: number,
  userOf: (i: number) => string,
  batch = 50,
): Promise<ConsoleSocket[]> {
  const out: ConsoleSocket[] = [];
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    out.push(...(await Promise.all(Array.from({ length: n }, (_, k) => consoleSocket(url, userOf(i + k))))));
  }
  return out;
}
