import { get, type IncomingMessage } from 'node:http';
import { type EventSourceConstructor, sseTransport } from '@syncline/client';
import { LocalSessionForwarder, type SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import {
  client,
  defer,
  describeValue,
  startServer,
  token,
  waitFor,
  waitForAtLeast,
  waitForValue,
  waitState,
} from './helpers.js';
import { parseEvents, pump, type StreamEvent } from './raw-peers.js';

/** One event of a raw stream or poll answer. */
type RawEvent = StreamEvent;

/** Messages (decoded frames, batches flattened) of a list of events. */
function messagesOf(events: readonly RawEvent[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const e of events) {
    if (e.event !== 'message') continue;
    const v = JSON.parse(e.data) as unknown;
    if (Array.isArray(v)) out.push(...(v as Array<Record<string, unknown>>));
    else out.push(v as Record<string, unknown>);
  }
  return out;
}

/** A raw SSE stream (no SDK), recording events. */
async function rawSse(base: string): Promise<{
  session: string;
  events: RawEvent[];
  messages(): Array<Record<string, unknown>>;
  post(body: string, via?: string): Promise<Response>;
  closeEvent(): { code: number; reason: string } | undefined;
}> {
  const ac = new AbortController();
  defer(() => ac.abort());
  const res = await fetch(`${base}/connect/sse`, { signal: ac.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  expect(res.headers.get('x-accel-buffering')).toBe('no');
  const events: RawEvent[] = [];
  void pump(res.body as ReadableStream<Uint8Array>, (e) => events.push(e));
  await waitForAtLeast(() => events.length, 1, 5_000, 'stream events (the session event)');
  const first = events[0] as RawEvent;
  expect(first.event).toBe('session');
  const session = (JSON.parse(first.data) as { session: string }).session;
  return {
    session,
    events,
    messages: () => messagesOf(events),
    post: (body, via = base) => fetch(`${via}/connect/sse/${session}`, { method: 'POST', body }),
    closeEvent() {
      const e = events.find((x) => x.event === 'close');
      return e ? (JSON.parse(e.data) as { code: number; reason: string }) : undefined;
    },
  };
}

async function connectFrame(user = 'alice', id = 1): Promise<string> {
  return JSON.stringify({ type: 'connect', id, protocol: 1, token: await token(user) });
}

async function errorBody(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return body.error;
}

async function openPoll(base: string): Promise<string> {
  const res = await fetch(`${base}/connect/poll`, { method: 'POST', body: '' });
  expect(res.status).toBe(200);
  return ((await res.json()) as { session: string }).session;
}

async function poll(base: string, session: string): Promise<{ status: number; events: RawEvent[] }> {
  const res = await fetch(`${base}/connect/poll/${session}`);
  const text = await res.text();
  return { status: res.status, events: res.status === 200 ? parseEvents(text).events : [] };
}

describe('SSE + POST transport', () => {
  it('carries the connect flow, replies and pushes over the stream', async () => {
    const server = await startServer();
    const s = await rawSse(server.url);
    expect(s.session).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{24}$/);
    expect((await s.post(await connectFrame())).status).toBe(204);
    await waitFor(
      () => s.messages().some((m) => m.type === 'reply' && m.id === 1),
      5_000,
      () => `wanted the connect reply, saw ${describeValue(s.messages())}`,
    );
    const reply = s.messages().find((m) => m.id === 1) as { result: { user: string } };
    expect(reply.result.user).toBe('alice');
    // Several frames in one body, one per line.
    const sub = JSON.stringify({ type: 'subscribe', id: 2, channel: 'chat:a' });
    const pub = JSON.stringify({ type: 'publish', id: 3, channel: 'chat:a', data: { n: 1 }, key: 'k1' });
    expect((await s.post(`${sub}\n${pub}`)).status).toBe(204);
    await waitFor(
      () => s.messages().some((m) => m.type === 'pub'),
      5_000,
      () => `wanted a publication, saw ${describeValue(s.messages())}`,
    );
    expect(server.connectionCount).toBe(1);
  });

  it('refuses bad bodies with documented codes and delivers nothing from them', async () => {
    const server = await startServer({ maxFrameBytes: 1024 });
    const s = await rawSse(server.url);
    await s.post(await connectFrame());
    await waitFor(
      () => s.messages().some((m) => m.id === 1),
      5_000,
      () => `wanted the connect reply, saw ${describeValue(s.messages())}`,
    );

    // Not JSON: 400 bad_frame, and the valid frame before it is not delivered either.
    const pub = JSON.stringify({ type: 'publish', id: 5, channel: 'chat:a', data: 1, key: 'x' });
    const bad = await s.post(`${pub}\n{not json`);
    expect(bad.status).toBe(400);
    expect((await errorBody(bad)).code).toBe('bad_frame');

    // Oversize body (beyond the hard limit of 1 MiB): 413 frame_too_large.
    const huge = await s.post('x'.repeat(1024 * 1024 + 10));
    expect(huge.status).toBe(413);
    expect((await errorBody(huge)).code).toBe('frame_too_large');

    // A frame over maxFrameBytes but within the body limit: answered in-band with its id, like WebSocket.
    const big = JSON.stringify({ type: 'publish', id: 6, channel: 'chat:a', data: 'y'.repeat(2000), key: 'z' });
    expect((await s.post(big)).status).toBe(204);
    await waitFor(
      () => s.messages().some((m) => m.id === 6),
      5_000,
      () => `wanted the frame_too_large reply to id 6, saw ${describeValue(s.messages())}`,
    );
    expect(s.messages().find((m) => m.id === 6)?.code).toBe('frame_too_large');

    // Unknown sessions: malformed id, well-formed id of this node, id of an unknown node.
    for (const id of [
      'nope',
      `${s.session.split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAAAA`,
      'bm9kZQ.AAAAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      const r = await fetch(`${server.url}/connect/sse/${id}`, { method: 'POST', body: '{"type":"ping"}' });
      expect(r.status).toBe(404);
      expect((await errorBody(r)).code).toBe('session_not_found');
    }
    // Polling an SSE session is refused.
    const p = await fetch(`${server.url}/connect/poll/${s.session}`);
    expect(p.status).toBe(400);
    expect((await errorBody(p)).code).toBe('invalid_command');

    // Nothing was published by the refused bodies.
    expect((await server.core.broker.top('chat:a')).offset).toBe(0);
    expect(s.messages().some((m) => m.id === 5)).toBe(false);
  });

  it('closes a stream whose client never answers pings (heartbeat), with a close event', async () => {
    const server = await startServer({ pingIntervalMs: 200 });
    const s = await rawSse(server.url);
    await s.post(await connectFrame());
    await waitFor(
      () => s.closeEvent() !== undefined,
      10_000,
      () => `wanted a close event, saw only ${describeValue(s.messages())}`,
    );
    expect(s.closeEvent()?.code).toBe(4006);
    await waitForValue(() => server.connectionCount, 0, 5_000, 'connection count');
  });

  it('drops a stream whose reader stops reading as a slow consumer, holding at most the queue limit', async () => {
    const maxQueueBytes = 64 * 1024;
    const server = await startServer({ maxQueueBytes, limits: { publishRatePerSec: 100_000, publishBurst: 100_000 } });
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = get(`${server.url}/connect/sse`, resolve);
      req.on('error', reject);
      defer(() => req.destroy());
    });
    res.on('error', () => undefined);
    const first = await new Promise<string>((resolve) => res.once('data', (c: Buffer) => resolve(c.toString())));
    const session = (JSON.parse(parseEvents(first).events[0]?.data ?? '{}') as { session: string }).session;
    res.pause();
    const post = (body: string): Promise<Response> =>
      fetch(`${server.url}/connect/sse/${session}`, { method: 'POST', body });
    await post(await connectFrame('slow'));
    await post(JSON.stringify({ type: 'subscribe', id: 2, channel: 'nohist:flood' }));
    const slow = () => [...server.core.sessions].find((x) => x.user === 'slow');
    await waitForValue(
      () => {
        const x = slow();
        return x && server.channels.subscriptionCount(x);
      },
      1,
      5_000,
      "subscription count of the slow user's session",
    );
    const payload = 'x'.repeat(16 * 1024);
    let maxQueued = 0;
    for (let i = 0; i < 20_000 && slow(); i++) {
      await server.publish('nohist:flood', payload);
      maxQueued = Math.max(maxQueued, slow()?.queuedBytes ?? 0);
    }
    expect(slow()).toBeUndefined();
    expect(maxQueued).toBeLessThanOrEqual(maxQueueBytes + payload.length * 2);
    // The session is gone for its POSTs too.
    expect((await post('{"type":"ping"}')).status).toBe(404);
  });

  it('ends the session when the stream closes', async () => {
    const server = await startServer();
    const ac = new AbortController();
    const res = await fetch(`${server.url}/connect/sse`, { signal: ac.signal });
    expect(res.status).toBe(200);
    await waitForValue(() => server.connectionCount, 1, 5_000, 'connection count');
    ac.abort();
    await waitForValue(() => server.connectionCount, 0, 5_000, 'connection count');
  });
});

describe('long-polling transport', () => {
  it('connects, polls replies and publications, and answers an idle poll empty', async () => {
    const server = await startServer({ httpTransports: { pollTimeoutMs: 300 } });
    const id = await openPoll(server.url);
    const post = (body: string): Promise<Response> =>
      fetch(`${server.url}/connect/poll/${id}`, { method: 'POST', body });
    expect((await post(await connectFrame())).status).toBe(204);
    const first = await poll(server.url, id);
    expect(first.status).toBe(200);
    expect(messagesOf(first.events).find((m) => m.id === 1)?.type).toBe('reply');
    const empty = await poll(server.url, id);
    expect(empty.status).toBe(204);
    await post(JSON.stringify({ type: 'subscribe', id: 2, channel: 'chat:p' }));
    const got: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 5 && !got.some((m) => m.id === 2); i++)
      got.push(...messagesOf((await poll(server.url, id)).events));
    expect(got.some((m) => m.id === 2)).toBe(true);
    const pending = poll(server.url, id);
    await server.publish('chat:p', { hello: 1 });
    const pubs = messagesOf((await pending).events);
    expect(pubs.find((m) => m.type === 'pub')?.data).toEqual({ hello: 1 });
  });

  it('drops a client that stops polling as a slow consumer', async () => {
    const server = await startServer({
      maxQueueBytes: 20_000,
      limits: { publishRatePerSec: 100_000, publishBurst: 100_000 },
    });
    const id = await openPoll(server.url);
    const post = (body: string): Promise<Response> =>
      fetch(`${server.url}/connect/poll/${id}`, { method: 'POST', body });
    await post(await connectFrame());
    await post(JSON.stringify({ type: 'subscribe', id: 2, channel: 'chat:slow' }));
    await waitForValue(
      () => [...server.core.sessions].map((x) => server.channels.subscriptionCount(x)),
      [1],
      5_000,
      'subscription counts per session',
    );
    for (let i = 0; i < 100; i++) await server.publish('chat:slow', { pad: 'p'.repeat(500), i });
    await waitForValue(() => server.connectionCount, 0, 5_000, 'connection count');
    // The next poll gets the close event with the code.
    const last = await poll(server.url, id);
    const close = last.events.find((e) => e.event === 'close');
    expect(close && (JSON.parse(close.data) as { code: number }).code).toBe(4007);
    // After that the session is gone.
    const after = await fetch(`${server.url}/connect/poll/${id}`, { method: 'POST', body: '{"type":"ping"}' });
    expect(after.status).toBe(404);
  });

  it('closes an abandoned session after the idle timeout', async () => {
    const server = await startServer({ httpTransports: { pollTimeoutMs: 100, idleTimeoutMs: 300 } });
    const id = await openPoll(server.url);
    await fetch(`${server.url}/connect/poll/${id}`, { method: 'POST', body: await connectFrame() });
    await waitForValue(() => server.connectionCount, 1, 5_000, 'connection count');
    await waitForValue(() => server.connectionCount, 0, 10_000, 'connection count');
  });
});

describe('no sticky sessions: requests for a session reach its owner through the forwarder', () => {
  async function pair(): Promise<[SynclineServer, SynclineServer]> {
    const forwarder = new LocalSessionForwarder();
    const a = await startServer({ nodeId: 'node-a', httpTransports: { forwarder, pollTimeoutMs: 500 } });
    const b = await startServer({ nodeId: 'node-b', httpTransports: { forwarder, pollTimeoutMs: 500 } });
    return [a, b];
  }

  it('delivers SSE POSTs sent to another node', async () => {
    const [a, b] = await pair();
    const s = await rawSse(a.url);
    expect((await s.post(await connectFrame(), b.url)).status).toBe(204);
    await waitFor(
      () => s.messages().some((m) => m.id === 1),
      5_000,
      () => `wanted the connect reply via node b, saw ${describeValue(s.messages())}`,
    );
    expect((s.messages().find((m) => m.id === 1) as { result: { node: string } }).result.node).toBe('node-a');
    expect(a.connectionCount).toBe(1);
    expect(b.connectionCount).toBe(0);
  });

  it('serves long-polls and POSTs of a session through any node', async () => {
    const [a, b] = await pair();
    const id = await openPoll(a.url);
    await fetch(`${b.url}/connect/poll/${id}`, { method: 'POST', body: await connectFrame() });
    const r = await poll(b.url, id);
    expect(r.status).toBe(200);
    expect((messagesOf(r.events).find((m) => m.id === 1) as { result: { node: string } }).result.node).toBe('node-a');
    // A session of a node nobody serves.
    const gone = await fetch(`${b.url}/connect/poll/${id.replace(/^[^.]+/, 'bm9uZQ')}`);
    expect(gone.status).toBe(404);
    expect((await errorBody(gone)).code).toBe('session_not_found');
  });
});

describe('SDK over the HTTP transports', () => {
  for (const transport of ['sse', 'longpoll'] as const) {
    it(`reports ${transport} and reconnects after the server drops the session`, async () => {
      const server = await startServer();
      const c = await client(server, 'alice', { transports: [transport] });
      await waitState(c, 'connected');
      expect(c.transport).toBe(transport);
      const got: unknown[] = [];
      const sub = c.subscribe('chat:x', { onPublication: (p) => got.push(p.data) });
      await sub.ready;
      await c.publish('chat:x', 1);
      const firstSession = c.info?.session;
      server.disconnectUser('alice');
      await waitFor(
        () => c.state === 'connected' && c.info?.session !== firstSession,
        10_000,
        () =>
          `wanted the client connected in a new session, saw ${c.state} in ${c.info?.session === firstSession ? 'the first' : 'a new'} session`,
      );
      await server.publish('chat:x', 2);
      await waitForValue(() => got, [1, 2], 5_000, 'publications');
      expect(got).toEqual([1, 2]);
    });
  }
});

/**
 * A minimal EventSource (the browser API) on fetch, to drive the SDK's
 * EventSource path in Node: named events, `onmessage`, `onerror`, `close()`.
 */
class FetchEventSource {
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly #listeners = new Map<string, Array<(ev: { data: unknown }) => void>>();
  readonly #abort = new AbortController();

  constructor(url: string) {
    void this.#run(url);
  }

  addEventListener(type: string, listener: (ev: { data: unknown }) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.#abort.abort();
  }

  async #run(url: string): Promise<void> {
    try {
      const res = await fetch(url, { signal: this.#abort.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let buf = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const parsed = parseEvents(buf + decoder.decode(value, { stream: true }));
        buf = parsed.rest;
        for (const e of parsed.events) {
          if (e.event === 'message') this.onmessage?.({ data: e.data });
          else for (const l of this.#listeners.get(e.event) ?? []) l({ data: e.data });
        }
      }
      this.onerror?.({});
    } catch {
      if (!this.#abort.signal.aborted) this.onerror?.({});
    }
  }
}

describe('SDK over SSE with an EventSource (browser path)', () => {
  it('connects, receives and learns the close code from the close event', async () => {
    const server = await startServer();
    const c = await client(server, 'alice', {
      transport: sseTransport({ EventSource: FetchEventSource as unknown as EventSourceConstructor }),
    });
    await waitState(c, 'connected');
    expect(c.transport).toBe('sse');
    const got: unknown[] = [];
    await c.subscribe('chat:es', { onPublication: (p) => got.push(p.data) }).ready;
    await c.publish('chat:es', 'hi');
    await waitForValue(() => got, ['hi'], 5_000, 'publications');
    const codes: Array<number | string | undefined> = [];
    c.on('state', (e) => codes.push(e.code));
    server.disconnectUser('alice');
    await waitFor(
      () => codes.includes(4010),
      5_000,
      () => `wanted close code 4010 (FORCE_DISCONNECT), saw ${describeValue(codes)}`,
    );
    await waitState(c, 'connected', 10_000);
  });
});
