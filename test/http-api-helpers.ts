import type { ServerOptions, SynclineServer } from '@syncline/server';
import { startServer, TEST_NAMESPACES } from './helpers.js';

/** API key of HTTP API test servers. */
export const API_KEY = 'test-api-key-0123456789';

/** A server with the HTTP API on and a presence namespace. */
export function apiServer(options: Partial<ServerOptions> = {}): Promise<SynclineServer> {
  return startServer({
    apiKey: API_KEY,
    namespaces: { ...TEST_NAMESPACES, room: { presence: true } },
    presence: { graceMs: 1_000, updateIntervalMs: 20 },
    ...options,
  });
}

/** A response of the HTTP API. */
export interface ApiResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Calls the HTTP API; `body` is sent as JSON unless it is a string (sent as is). */
export async function api(
  server: SynclineServer,
  method: string,
  path: string,
  body?: unknown,
  options: { key?: string | null; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? API_KEY : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(payload === undefined ? {} : { body: payload }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The error code of an error response. */
export function code(r: ApiResponse): unknown {
  return (r.body.error as { code?: unknown } | undefined)?.code;
}
