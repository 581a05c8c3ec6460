import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  type ClientOptions,
  type ClientSchema,
  createClient,
  type StorageLike,
  type SynclineClient,
  type SynclineError,
  type TransportName,
  type UntypedSchema,
} from '@syncline/client';
import {
  type Capability,
  createServer,
  type NamespaceOptions,
  type ServerOptions,
  type SynclineServer,
  signToken,
} from '@syncline/server';
import { afterEach, expect } from 'vitest';
import WebSocket from 'ws';

// Test servers log errors only (expected warnings, e.g. injected faults, would drown the output).
process.env.SYNCLINE_LOG_LEVEL ??= 'error';

/** Secret used by test servers. */
export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';

/** Cleanups of the current test; whatever one returns is awaited. */
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn?.();
    } catch {
      // best effort
    }
  }
});

/** Registers a cleanup run after the current test. */
export function defer(fn: () => unknown): void {
  cleanups.push(fn);
}

/** A fresh temporary folder removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-test-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Default namespaces of test servers. */
export const TEST_NAMESPACES: Readonly<Record<string, NamespaceOptions>> = {
  chat: { history: { size: 1000, ttlMs: 600_000 } },
  small: { history: { size: 50, ttlMs: 600_000 } },
  news: { allowPublish: 'none' },
  subs: { allowPublish: 'subscribers' },
  nohist: { history: { size: 0 } },
};

/** Starts a server on a free port on 127.0.0.1; closed after the test. */
export async function startServer(options: Partial<ServerOptions> = {}): Promise<SynclineServer> {
  const server = createServer({
    port: 0,
    host: '127.0.0.1',
    auth: { secret: SECRET },
    namespaces: TEST_NAMESPACES,
    ...options,
  });
  await server.listen();
  defer(() => server.close());
  return server;
}

/** Full access capabilities. */
export const ALL: Capability[] = [{ match: '*', allow: ['*'] }];

/** Signs a token for `sub`. */
export function token(sub: string, caps: Capability[] = ALL, ttlSec = 3600): Promise<string> {
  return signToken(SECRET, { sub, caps, ttlSec });
}

/**
 * Transport the integration suites run over: `SYNCLINE_TEST_TRANSPORT`
 * (`websocket`, `sse` or `longpoll`; default `websocket`). Test clients use it
 * alone, without fallback, unless a test passes its own `transports`.
 */
export const TEST_TRANSPORT = ((): TransportName => {
  const t = process.env.SYNCLINE_TEST_TRANSPORT ?? 'websocket';
  if (t !== 'websocket' && t !== 'sse' && t !== 'longpoll') throw new Error(`Unknown SYNCLINE_TEST_TRANSPORT "${t}"`);
  return t;
})();

/**
 * Codec the integration suites' clients speak: `SYNCLINE_TEST_CODEC`
 * (`json` or `msgpack`; default `json`), unless a test passes its own.
 */
export const TEST_CODEC = ((): 'json' | 'msgpack' => {
  const c = process.env.SYNCLINE_TEST_CODEC ?? 'json';
  if (c !== 'json' && c !== 'msgpack') throw new Error(`Unknown SYNCLINE_TEST_CODEC "${c}"`);
  return c;
})();

/**
 * Creates a client for a server, closed after the test; `C` types it from a
 * config (`client<typeof config>(server)`). With `connectData` and no token
 * option it connects without a token (the connect proxy).
 */
export async function client<C extends ClientSchema = UntypedSchema>(
  server: SynclineServer,
  sub = 'alice',
  options: Partial<ClientOptions> = {},
): Promise<SynclineClient<C>> {
  const anonymous = options.connectData !== undefined && options.token === undefined && options.getToken === undefined;
  const t = options.token ?? (options.getToken || anonymous ? undefined : await token(sub));
  const c = createClient<C>({
    url: server.url,
    WebSocket: WebSocket as unknown as ClientOptions['WebSocket'] & object,
    transports: [TEST_TRANSPORT],
    codec: TEST_CODEC,
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
    ...(t === undefined ? {} : { token: t }),
    ...options,
  });
  defer(() => c.close());
  return c;
}

/** The error a promise rejects with; fails the test when it resolves instead. */
export async function refusal(p: Promise<unknown>): Promise<SynclineError> {
  try {
    await p;
  } catch (err) {
    return err as SynclineError;
  }
  throw new Error('expected a refusal');
}

/**
 * Waits until `cond` is true, polling; throws after `timeoutMs`. `what` names
 * the wait (`waiting for <what>`), or is a function that describes what the
 * test saw, called once at the deadline so the failure says it:
 * `waitFor(() => got.length === 5, 5_000, () => \`offsets ${got.map((p) => p.offset)}\`)`.
 */
export async function waitFor(
  cond: () => boolean,
  timeoutMs = 5_000,
  what: string | (() => string) = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(
        typeof what === 'string'
          ? `Timed out after ${timeoutMs} ms waiting for ${what}`
          : `Timed out after ${timeoutMs} ms: ${what()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Waits until `get()` deeply equals `want`; throws after `timeoutMs` with
 * both: `wanted offsets 1-204, saw offsets 1-4, 6-9, 11-14 … (163 items)`.
 */
export async function waitForValue<T>(get: () => T, want: T, timeoutMs = 5_000, what = 'value'): Promise<void> {
  let seen: T = get();
  await waitFor(
    () => {
      seen = get();
      return isDeepStrictEqual(seen, want);
    },
    timeoutMs,
    () => `wanted ${what} ${describeValue(want)}, saw ${what} ${describeValue(seen)}`,
  );
}

/**
 * Waits until the number `get()` returns reaches `min` (more is fine); throws
 * after `timeoutMs` with both: `wanted at least 40 acked publishes, saw 12`.
 */
export async function waitForAtLeast(get: () => number, min: number, timeoutMs = 5_000, what = 'items'): Promise<void> {
  let seen = get();
  await waitFor(
    () => {
      seen = get();
      return seen >= min;
    },
    timeoutMs,
    () => `wanted at least ${min} ${what}, saw ${seen}`,
  );
}

/** A value for a failure message; a list of integers reads as ranges (`1-4, 6-9, 11`). */
export function describeValue(value: unknown, maxChars = 400): string {
  if (Array.isArray(value) && value.length > 0 && value.every((v) => Number.isInteger(v))) {
    const parts: string[] = [];
    let start = value[0] as number;
    let prev = start;
    for (const v of [...value.slice(1), undefined] as Array<number | undefined>) {
      if (v === prev + 1) {
        prev = v;
        continue;
      }
      parts.push(start === prev ? `${start}` : `${start}-${prev}`);
      if (v !== undefined) start = prev = v;
    }
    const ranges = parts.join(', ');
    return `${ranges.length > maxChars ? `${ranges.slice(0, maxChars)} …` : ranges} (${value.length} items)`;
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > maxChars ? `${text.slice(0, maxChars)} …` : text;
}

/** Resolves when the client reaches `state`. */
export function waitState(c: SynclineClient, state: string, timeoutMs = 5_000): Promise<void> {
  return waitForValue(() => c.state as string, state, timeoutMs, 'client state');
}

/** A raw WebSocket to the server that records every message it receives. */
export interface RawSocket {
  readonly ws: WebSocket;
  readonly messages: Array<Record<string, unknown>>;
  readonly closed: { code: number; reason: string } | undefined;
  send(data: string | Buffer): void;
  /** Waits for a message matching `pred`, returns it. */
  next(pred: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  waitClosed(timeoutMs?: number): Promise<{ code: number; reason: string }>;
}

/** Opens a raw WebSocket (no client SDK) for bad-input tests, offering `protocols`. */
export async function rawSocket(server: SynclineServer, protocols: string[] = ['syncline.json']): Promise<RawSocket> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/connect/ws`, protocols);
  const messages: Array<Record<string, unknown>> = [];
  let closed: { code: number; reason: string } | undefined;
  ws.on('message', (data) => {
    const v = JSON.parse(data.toString()) as unknown;
    if (Array.isArray(v)) messages.push(...(v as Array<Record<string, unknown>>));
    else messages.push(v as Record<string, unknown>);
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
  });
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  defer(() => ws.terminate());
  return {
    ws,
    messages,
    get closed() {
      return closed;
    },
    send: (d) => ws.send(d),
    async next(pred, timeoutMs = 5_000) {
      let found: Record<string, unknown> | undefined;
      await waitFor(
        () => {
          found = messages.find(pred);
          return found !== undefined;
        },
        timeoutMs,
        'raw message',
      );
      return found as Record<string, unknown>;
    },
    async waitClosed(timeoutMs = 5_000) {
      await waitFor(() => closed !== undefined, timeoutMs, 'socket close');
      return closed as { code: number; reason: string };
    },
  };
}

/** Opens a raw WebSocket and completes `connect` with a token for `sub`; returns it after the reply. */
export async function connectedRawSocket(
  server: SynclineServer,
  sub = 'raw',
  caps: Capability[] = ALL,
): Promise<RawSocket> {
  const raw = await rawSocket(server);
  raw.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: await token(sub, caps) }));
  const reply = await raw.next((m) => m.id === 1);
  if (reply.type !== 'reply') throw new Error(`connect failed: ${JSON.stringify(reply)}`);
  return raw;
}

/** A free TCP port on 127.0.0.1 (for processes a test starts itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A private in-memory storage (as sessionStorage is for one tab). */
export function memoryStorage(): StorageLike {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => {
      m.set(k, v);
    },
    removeItem: (k) => {
      m.delete(k);
    },
  };
}

/** A node's `syncline_delivery_latency_seconds` histogram. */
export interface LatencyHistogram {
  readonly count: number;
  readonly sum: number;
  /** Cumulative count per upper bound, seconds. */
  readonly buckets: ReadonlyMap<number, number>;
}

/** The delivery latency histogram as the node at `url` serves it on `/metrics`. */
export async function scrapeDeliveryLatency(url: string): Promise<LatencyHistogram> {
  const metric = 'syncline_delivery_latency_seconds';
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (suffix: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${metric}${suffix}`));
    return Number(line?.split(' ').at(-1) ?? Number.NaN);
  };
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(new RegExp(`^${metric}_bucket\\{le="([^"]+)"[^}]*\\} (\\d+)$`, 'gm'))) {
    buckets.set(m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2]));
  }
  return { count: value('_count'), sum: value('_sum'), buckets };
}

/**
 * Checks a sampled delivery latency histogram after `publications` were
 * delivered within `wallS` seconds: some (at least 5) were timed, never more
 * than were published, and on average each took less than the whole run.
 */
export function expectPlausibleLatency(h: LatencyHistogram, publications: number, wallS: number): void {
  expect(h.count).toBeGreaterThanOrEqual(5);
  expect(h.count).toBeLessThanOrEqual(publications);
  expect(h.sum).toBeGreaterThan(0);
  expect(h.sum / h.count).toBeLessThan(wallS);
}
