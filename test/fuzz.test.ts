import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ReceivedPublication } from '@syncline/client';
import { ERROR_CODES } from '@syncline/protocol';
import { createServer, type SynclineServer } from '@syncline/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, describeValue, SECRET, token, waitFor, waitForValue } from './helpers.js';
import { API_KEY } from './http-api-helpers.js';
import { captureLog } from './log-capture.js';
import { type RawPeer, type RawTransport, rawPeer } from './raw-peers.js';

/**
 * Property-based fuzzing of every way in: random and mutated frames over
 * WebSocket, SSE and long-polling, and random requests to every HTTP API
 * route. Seeded: `SYNCLINE_FUZZ_SEED=<n>` replays a run (the seed is printed
 * on failure); `SYNCLINE_FUZZ_RUNS=<n>` runs longer (default a few seconds).
 */
const SEED = Number(process.env.SYNCLINE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.SYNCLINE_FUZZ_RUNS ?? 40);
/** Time allowed to each fuzzing test: generous per run, so a longer run is not cut short. */
const TEST_TIMEOUT_MS = Math.max(30_000, RUNS * 500);
const MAX_FRAME_BYTES = 64 * 1024;
/** Heap growth tolerated between the start and the end of the whole run, after garbage collection. */
const HEAP_SLACK_BYTES = 48 * 1024 * 1024;

const COMMAND_TYPES = [
  'connect',
  'refresh',
  'subscribe',
  'unsubscribe',
  'publish',
  'history',
  'presence.enter',
  'presence.update',
  'presence.leave',
  'presence.subscribe',
  'presence.unsubscribe',
  'doc.subscribe',
  'doc.unsubscribe',
  'doc.mutate',
  'fly',
  '',
  'PUBLISH',
] as const;

/** Codes that would blame the server (or a backing service) for a client's mistake. */
const SERVER_FAULTS = new Set(['internal', 'unavailable']);

/** Stands for "a fresh valid request id" until the frame is written. */
const VALID_ID = '\u0000valid-id';

const name = fc.oneof(
  { arbitrary: fc.constantFrom('chat:a', 'chat:b', 'room:a', 'room:b', 'docs:one', 'docs:two'), weight: 6 },
  fc.constantFrom('nope:x', 'bad', '', 'chat:', `chat:${'x'.repeat(300)}`, 'chat:../x', 'docs:a b'),
  fc.string({ maxLength: 30 }),
);
const json = fc.jsonValue({ maxDepth: 3 });
/** Deep nesting stands as `{"~deep":n}` until the frame is written (the test itself never holds a deep value). */
const deep = fc
  .oneof(fc.integer({ min: 60, max: 200 }), fc.integer({ min: 4_000, max: 12_000 }))
  .map((n) => ({ '~deep': n }));
/** Expands the `{"~deep":n}` placeholders of a JSON text into n nested arrays. */
function expandDeep(text: string): string {
  return text.replace(/\{"~deep":(\d+)\}/g, (_m, n: string) => `${'['.repeat(Number(n))}0${']'.repeat(Number(n))}`);
}
const payload = fc.oneof({ arbitrary: json, weight: 8 }, deep, fc.string({ minLength: 500, maxLength: 3_000 }));
const id = fc.oneof(
  { arbitrary: fc.constant(VALID_ID), weight: 6 },
  fc.constantFrom(0, -1, 1.5, '7', null, 2 ** 60),
  json,
);

const command = fc.record(
  {
    type: fc.oneof({ arbitrary: fc.constantFrom(...COMMAND_TYPES), weight: 9 }, fc.string({ maxLength: 12 })),
    id,
    channel: name,
    doc: name,
    data: payload,
    state: payload,
    args: payload,
    name: fc.oneof(fc.constantFrom(...Object.keys(testMutators)), fc.string({ maxLength: 20 })),
    clientId: fc.oneof(fc.constantFrom('c1', 'c2', 'c3'), fc.string({ maxLength: 70 })),
    mutationId: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer()),
    since: fc.oneof(
      fc.record({ epoch: fc.string({ maxLength: 10 }), offset: fc.integer({ min: -2, max: 50 }) }),
      fc.integer({ min: -2, max: 50 }),
      json,
    ),
    limit: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer()),
    key: fc.string({ maxLength: 200 }),
    token: fc.string({ maxLength: 40 }),
    protocol: fc.integer({ min: -1, max: 5 }),
  },
  { requiredKeys: ['type'] },
);

/** How one frame is made from commands or bytes. */
type FrameSpec =
  | { kind: 'one'; cmd: Record<string, unknown> }
  | { kind: 'batch'; cmds: Record<string, unknown>[] }
  | { kind: 'mutated'; cmd: Record<string, unknown>; at: number; op: 'cut' | 'insert' | 'replace'; ch: string }
  | { kind: 'text'; text: string }
  | { kind: 'oversize'; cmd: Record<string, unknown>; pad: number }
  | { kind: 'bytes'; bytes: Uint8Array };

const frameSpec: fc.Arbitrary<FrameSpec> = fc.oneof(
  { arbitrary: command.map((cmd) => ({ kind: 'one', cmd }) as const), weight: 10 },
  {
    arbitrary: fc.array(command, { minLength: 1, maxLength: 5 }).map((cmds) => ({ kind: 'batch', cmds }) as const),
    weight: 2,
  },
  {
    arbitrary: fc
      .record({
        cmd: command,
        at: fc.nat(),
        op: fc.constantFrom('cut' as const, 'insert' as const, 'replace' as const),
        ch: fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '0', 'x', '\u00e9', '\ud83d'),
      })
      .map((m) => ({ kind: 'mutated', ...m }) as const),
    weight: 3,
  },
  {
    arbitrary: fc.string({ maxLength: 200, unit: 'binary' }).map((text) => ({ kind: 'text', text }) as const),
    weight: 1,
  },
  {
    arbitrary: fc
      .record({ cmd: command, pad: fc.integer({ min: MAX_FRAME_BYTES, max: 4 * MAX_FRAME_BYTES }) })
      .map((o) => ({ kind: 'oversize', ...o }) as const),
    weight: 1,
  },
  { arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ kind: 'bytes', bytes }) as const), weight: 1 },
);

/** Writes a frame, giving every `VALID_ID` a fresh id; HTTP transports carry one frame a line, so no raw newlines. */
function render(spec: FrameSpec, nextId: () => number, transport: RawTransport): string | Uint8Array {
  const withIds = (cmd: Record<string, unknown>): Record<string, unknown> =>
    cmd.id === VALID_ID ? { ...cmd, id: nextId() } : cmd;
  const oneLine = (s: string): string => s.replace(/[\r\n]/g, ' ');
  switch (spec.kind) {
    case 'one':
      return expandDeep(JSON.stringify(withIds(spec.cmd)));
    case 'batch':
      return expandDeep(JSON.stringify(spec.cmds.map(withIds)));
    case 'mutated': {
      const text = expandDeep(JSON.stringify(withIds(spec.cmd)));
      const at = spec.at % (text.length + 1);
      const mutated =
        spec.op === 'cut'
          ? text.slice(0, at)
          : spec.op === 'insert'
            ? text.slice(0, at) + spec.ch + text.slice(at)
            : text.slice(0, at) + spec.ch + text.slice(at + 1);
      return oneLine(mutated);
    }
    case 'text':
      return oneLine(spec.text);
    case 'oversize':
      return expandDeep(JSON.stringify({ ...withIds(spec.cmd), pad: 'p'.repeat(spec.pad) }));
    case 'bytes':
      return transport === 'websocket' ? spec.bytes : oneLine(Buffer.from(spec.bytes).toString('latin1'));
  }
}

/** Request ids the server must answer for a frame: those of well-formed commands with a valid id. */
function expectedIds(frame: string | Uint8Array): number[] {
  if (typeof frame !== 'string') return [];
  let decoded: unknown;
  try {
    decoded = JSON.parse(frame);
  } catch {
    return [];
  }
  const items = Array.isArray(decoded) ? decoded : [decoded];
  if (items.length > 100) return [];
  const ids: number[] = [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
    const { id: v, type } = item as { id?: unknown; type?: unknown };
    if (type === 'ping' || type === 'pong') continue;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) ids.push(v);
  }
  return ids;
}

/** Wire error codes seen in any message (errors, and pushes that end something with a code). */
function codesIn(messages: ReadonlyArray<Record<string, unknown>>): string[] {
  return messages.filter((m) => typeof m.code === 'string').map((m) => m.code as string);
}

/** Heap in use after a full collection. */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

let server: SynclineServer;
const log = captureLog();
let heapAtStart = 0;

beforeAll(async () => {
  // One server for the whole file (the helpers' servers close after each test).
  server = createServer({
    port: 0,
    host: '127.0.0.1',
    auth: { secret: SECRET },
    logger: log.logger,
    apiKey: API_KEY,
    maxFrameBytes: MAX_FRAME_BYTES,
    namespaces: {
      chat: { history: { size: 50, ttlMs: 600_000 } },
      room: { presence: true },
    },
    docs: { docs: testDocNamespace() },
    // Fuzzed connections publish and mutate fast: the limits answer, they are not what is tested here.
    limits: { publishRatePerSec: 10_000, publishBurst: 10_000, mutateRatePerSec: 10_000, mutateBurst: 10_000 },
  });
  await server.listen();
  heapAtStart = heapAfterGc();
});

afterAll(async () => {
  await server.close();
  // A failed run says how to replay it.
  process.stdout.write(`fuzz: seed ${SEED}, ${RUNS} runs (replay with SYNCLINE_FUZZ_SEED=${SEED})\n`);
});

describe(`fuzzing (seed ${SEED})`, () => {
  it(
    'random and mutated frames on every transport: every valid id answered, no internal error, connection kept',
    async () => {
      const user = `fuzz-${randomUUID()}`;
      const tok = await token(user);
      let frames = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<RawTransport>('websocket', 'sse', 'longpoll'),
          fc.array(frameSpec, { minLength: 10, maxLength: 50 }),
          async (transport, specs) => {
            const peer: RawPeer = await rawPeer(server.url, transport);
            let next = 1;
            const nextId = (): number => ++next;
            await peer.send(JSON.stringify({ type: 'connect', id: 1, protocol: 3, token: tok }));
            const connected = await peer.next((m) => m.id === 1);
            expect(connected.type).toBe('reply');
            const sent: Array<{ frame: string | Uint8Array; ids: number[] }> = [];
            for (const spec of specs) {
              const frame = render(spec, nextId, transport);
              sent.push({ frame, ids: expectedIds(frame) });
              await peer.send(frame);
              frames++;
            }
            const wanted = sent.flatMap((s) => s.ids);
            const answered = (): Set<number> =>
              new Set(peer.messages.filter((m) => typeof m.id === 'number').map((m) => m.id as number));
            await waitFor(
              () => wanted.every((i) => answered().has(i)) || peer.closed !== undefined,
              10_000,
              () =>
                `wanted answers to ids ${describeValue(wanted)}, saw ${describeValue([...answered()].sort((x, y) => x - y))}`,
            ).catch(() => undefined);
            const missing = wanted.filter((i) => !answered().has(i));
            const unanswered = sent
              .filter((s) => s.ids.some((i) => missing.includes(i)))
              .map((s) => String(s.frame).slice(0, 300));
            expect({ transport, closed: peer.closed, missing, unanswered }).toEqual({
              transport,
              closed: undefined,
              missing: [],
              unanswered: [],
            });
            const codes = codesIn(peer.messages);
            // Nothing here is the server's fault: no `internal`, and no `unavailable` (no backing service is down).
            expect(codes.filter((c) => SERVER_FAULTS.has(c) || !Object.hasOwn(ERROR_CODES, c))).toEqual([]);
            expect(peer.postStatuses.filter((s) => s >= 500)).toEqual([]);
            await peer.close();
          },
        ),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      expect(frames).toBeGreaterThan(RUNS * 10 - 1);
      expect(log.errors()).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'random requests to every HTTP API route: never a 5xx, errors in the documented shape',
    async () => {
      const spec = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as {
        paths: Record<string, Record<string, unknown>>;
      };
      const routes = Object.entries(spec.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path })),
      );
      expect(routes.length).toBeGreaterThan(8);
      const body = fc.oneof(
        { arbitrary: json.map((v) => JSON.stringify(v)), weight: 4 },
        fc
          .record({
            channel: name,
            data: payload,
            items: fc.array(fc.record({ channel: name, data: json }), { maxLength: 3 }),
          })
          .map((v) => JSON.stringify(v)),
        fc
          .record({
            name: fc.constantFrom(...Object.keys(testMutators)),
            args: payload,
            clientId: fc.string(),
            mutationId: fc.integer(),
          })
          .map((v) => JSON.stringify(v)),
        deep.map((v) => expandDeep(JSON.stringify({ channel: 'chat:a', data: v }))),
        fc.string({ maxLength: 100, unit: 'binary' }),
        fc.constant(''),
        fc
          .integer({ min: MAX_FRAME_BYTES, max: 3 * MAX_FRAME_BYTES })
          .map((n) => JSON.stringify({ channel: 'chat:a', data: 'x'.repeat(n) })),
      );
      let requests = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            { arbitrary: fc.constantFrom(...routes), weight: 8 },
            fc.record({
              method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
              path: fc.constantFrom(...routes.map((r) => r.path)),
            }),
          ),
          fc.array(fc.oneof(name, fc.string({ maxLength: 20 })), { minLength: 3, maxLength: 3 }),
          body,
          fc.oneof({ arbitrary: fc.constant(API_KEY), weight: 6 }, fc.constant(null), fc.string({ maxLength: 30 })),
          fc.dictionary(fc.constantFrom('since', 'limit', 'prefix', 'cursor', 'x'), fc.string({ maxLength: 10 })),
          async (route, params, payloadText, key, query) => {
            let i = 0;
            const path = route.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(params[i++ % params.length] ?? 'x'));
            const qs = new URLSearchParams(query).toString();
            const headers: Record<string, string> = { 'content-type': 'application/json' };
            if (key !== null) headers.authorization = `Bearer ${key}`;
            const res = await fetch(`${server.url}${path}${qs ? `?${qs}` : ''}`, {
              method: route.method,
              headers,
              ...(route.method === 'GET' ? {} : { body: expandDeep(payloadText) }),
            });
            requests++;
            const text = await res.text();
            expect(res.status, `${route.method} ${path}: ${text.slice(0, 200)}`).toBeLessThan(500);
            if (res.status >= 400) {
              const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
              expect(
                Object.hasOwn(ERROR_CODES, err?.code ?? ''),
                `${route.method} ${path}: ${text.slice(0, 200)}`,
              ).toBe(true);
              expect(SERVER_FAULTS.has(err?.code ?? ''), `${route.method} ${path}: ${text.slice(0, 200)}`).toBe(false);
              expect(typeof err?.message).toBe('string');
            }
          },
        ),
        { seed: SEED, numRuns: RUNS * 6, endOnFailure: true },
      );
      expect(requests).toBe(RUNS * 6);
      expect(log.errors()).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it('afterwards the node serves everyone, holds no fuzz connection, and its memory is back near its start', async () => {
    const good = await client(server, `good-${randomUUID()}`);
    const got: ReceivedPublication[] = [];
    await good.subscribe('chat:after', { onPublication: (p) => got.push(p) }).ready;
    await good.publish('chat:after', 'still here');
    await waitForValue(() => got.map((p) => p.data), ['still here'], 5_000, 'publications after the fuzzing');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await waitForValue(() => server.connectionCount, 1, 10_000, 'connection count');
    const grown = heapAfterGc() - heapAtStart;
    expect(grown, `heap grew by ${Math.round(grown / 1024)} KiB`).toBeLessThan(HEAP_SLACK_BYTES);
    expect(log.errors()).toEqual([]);
  });
});
