import { type Codec, decodeBase64, encodeBase64, jsonCodec } from '@syncline/protocol';
import WebSocket from 'ws';
import { defer, describeValue, waitFor } from './helpers.js';

/** Transports a raw peer speaks. */
export type RawTransport = 'websocket' | 'sse' | 'longpoll';

/**
 * A connection to a server without the SDK, on any transport: frames go out
 * as they are, every decoded server message is recorded.
 */
export interface RawPeer {
  readonly transport: RawTransport;
  readonly messages: Array<Record<string, unknown>>;
  /** Set once the server ended the connection (close code and reason). */
  readonly closed: { code: number; reason: string } | undefined;
  /** HTTP statuses of the POSTs that carried frames (HTTP transports only). */
  readonly postStatuses: number[];
  /** Sends one frame (text, or bytes over WebSocket); resolves once the server has it (HTTP) or it is written. */
  send(frame: string | Uint8Array): Promise<void>;
  /** Waits for a message matching `pred`. */
  next(pred: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Ends the connection from the client side. */
  close(): Promise<void>;
}

/** One event of an event-stream text. */
export interface StreamEvent {
  readonly event: string;
  readonly data: string;
}

/** Splits event-stream text into complete events and the unfinished rest. */
export function parseEvents(text: string): { events: StreamEvent[]; rest: string } {
  const events: StreamEvent[] = [];
  const blocks = text.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const b of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of b.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

/** Records the messages of one decoded frame (a message or a batch). */
function record(into: Array<Record<string, unknown>>, frame: string | Uint8Array, codec: Codec = jsonCodec): void {
  const v = codec.decode(frame) as unknown;
  if (Array.isArray(v)) into.push(...(v as Array<Record<string, unknown>>));
  else into.push(v as Record<string, unknown>);
}

function peerOf(
  transport: RawTransport,
  state: {
    messages: Array<Record<string, unknown>>;
    closed?: { code: number; reason: string };
    postStatuses: number[];
  },
  send: (frame: string | Uint8Array) => Promise<void>,
  close: () => Promise<void>,
): RawPeer {
  return {
    transport,
    messages: state.messages,
    get closed() {
      return state.closed;
    },
    postStatuses: state.postStatuses,
    send,
    async next(pred, timeoutMs = 5_000) {
      let found: Record<string, unknown> | undefined;
      await waitFor(
        () => {
          found = state.messages.find(pred);
          return found !== undefined;
        },
        timeoutMs,
        () =>
          `wanted a ${transport} message matching ${pred}, saw ${describeValue(state.messages)}${
            state.closed ? ` and close ${JSON.stringify(state.closed)}` : ''
          }`,
      );
      return found as Record<string, unknown>;
    },
    close,
  };
}

async function websocketPeer(base: string, codec: Codec): Promise<RawPeer> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/connect/ws`, [`syncline.${codec.name}`]);
  const state: Parameters<typeof peerOf>[1] = { messages: [], postStatuses: [] };
  ws.on('message', (data, isBinary) =>
    record(state.messages, isBinary ? new Uint8Array(data as Buffer) : data.toString(), codec),
  );
  ws.on('close', (code, reason) => {
    state.closed = { code, reason: reason.toString() };
  });
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  defer(() => ws.terminate());
  return peerOf(
    'websocket',
    state,
    (frame) =>
      new Promise<void>((resolve) => {
        ws.send(frame, { binary: typeof frame !== 'string' }, () => resolve());
      }),
    async () => {
      ws.close(1000);
      await waitFor(
        () => state.closed !== undefined,
        5_000,
        () => `wanted the websocket closed, saw readyState ${ws.readyState}`,
      );
    },
  );
}

/** Reads an event stream into `onEvent` until it ends or is aborted. */
export function pump(body: ReadableStream<Uint8Array>, onEvent: (e: StreamEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  return (async () => {
    let buf = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const parsed = parseEvents(buf + decoder.decode(value, { stream: true }));
        buf = parsed.rest;
        for (const e of parsed.events) onEvent(e);
      }
    } catch {
      // aborted
    }
  })();
}

function httpPeer(
  transport: 'sse' | 'longpoll',
  postUrl: string,
  state: Parameters<typeof peerOf>[1],
  stop: () => void,
  codec: Codec,
): RawPeer {
  const post = async (body: string): Promise<void> => {
    const res = await fetch(postUrl, { method: 'POST', body });
    state.postStatuses.push(res.status);
    await res.arrayBuffer();
  };
  return peerOf(
    transport,
    state,
    (frame) =>
      post(
        typeof frame === 'string' ? frame : codec.binary ? encodeBase64(frame) : Buffer.from(frame).toString('utf8'),
      ),
    async () => {
      await fetch(`${postUrl}/close`, { method: 'POST', body: '' }).then((r) => r.arrayBuffer());
      stop();
    },
  );
}

function onStreamEvent(state: Parameters<typeof peerOf>[1], e: StreamEvent, codec: Codec): void {
  if (e.event === 'message') record(state.messages, codec.binary ? decodeBase64(e.data) : e.data, codec);
  else if (e.event === 'close') state.closed = JSON.parse(e.data) as { code: number; reason: string };
}

/** `?codec=…` for a session of `codec` (none for JSON, the default). */
function codecQuery(codec: Codec): string {
  return codec === jsonCodec ? '' : `?codec=${codec.name}`;
}

async function ssePeer(base: string, codec: Codec): Promise<RawPeer> {
  const ac = new AbortController();
  defer(() => ac.abort());
  const res = await fetch(`${base}/connect/sse${codecQuery(codec)}`, { signal: ac.signal });
  if (res.status !== 200) throw new Error(`SSE open answered ${res.status}`);
  const state: Parameters<typeof peerOf>[1] = { messages: [], postStatuses: [] };
  let session: string | undefined;
  const events: string[] = [];
  void pump(res.body as ReadableStream<Uint8Array>, (e) => {
    events.push(e.event);
    if (e.event === 'session') session = (JSON.parse(e.data) as { session: string }).session;
    else onStreamEvent(state, e, codec);
  });
  await waitFor(
    () => session !== undefined,
    5_000,
    () => `wanted the SSE session event, saw events ${describeValue(events)}`,
  );
  return httpPeer('sse', `${base}/connect/sse/${session}`, state, () => ac.abort(), codec);
}

async function longpollPeer(base: string, codec: Codec): Promise<RawPeer> {
  const res = await fetch(`${base}/connect/poll${codecQuery(codec)}`, { method: 'POST', body: '' });
  if (res.status !== 200) throw new Error(`long-poll open answered ${res.status}`);
  const { session } = (await res.json()) as { session: string };
  const state: Parameters<typeof peerOf>[1] = { messages: [], postStatuses: [] };
  const ac = new AbortController();
  defer(() => ac.abort());
  void (async () => {
    while (!ac.signal.aborted && state.closed === undefined) {
      try {
        const r = await fetch(`${base}/connect/poll/${session}`, { signal: ac.signal });
        const text = await r.text();
        if (r.status === 200) for (const e of parseEvents(text).events) onStreamEvent(state, e, codec);
        else if (r.status !== 204) state.closed = { code: r.status, reason: text };
      } catch {
        return;
      }
    }
  })();
  return httpPeer('longpoll', `${base}/connect/poll/${session}`, state, () => ac.abort(), codec);
}

/** Opens a raw peer on `transport`, speaking `codec` (default JSON). */
export function rawPeer(base: string, transport: RawTransport, codec: Codec = jsonCodec): Promise<RawPeer> {
  if (transport === 'websocket') return websocketPeer(base, codec);
  if (transport === 'sse') return ssePeer(base, codec);
  return longpollPeer(base, codec);
}
