import type { Codec } from '@syncline/protocol';
import { EventStreamParser, type StreamEvent } from './event-stream.js';
import {
  ABNORMAL_CLOSE,
  type FetchLike,
  fetchRetryingOnce,
  frameFromText,
  HttpFrameSender,
  type HttpTransportOptions,
  httpBaseUrl,
  parseCloseEvent,
  postClose,
  resolveFetch,
  SSE_PATH,
  sessionOpenUrl,
} from './http-common.js';
import type { ClientFrame, ClientTransport, ClientTransportEvents, TransportFactory } from './transport.js';

/** Minimal EventSource surface (the browser global). */
export interface EventSourceLike {
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  addEventListener(type: string, listener: (ev: { data: unknown }) => void): void;
  close(): void;
}

/** An EventSource constructor. */
export type EventSourceConstructor = new (url: string) => EventSourceLike;

/** Options of the SSE transport. */
export interface SseTransportOptions extends HttpTransportOptions {
  /** EventSource implementation (default the browser global; without one, a fetch-based reader). */
  readonly EventSource?: EventSourceConstructor;
}

class SseClientTransport implements ClientTransport {
  readonly name = 'sse';
  readonly #base: string;
  readonly #events: ClientTransportEvents;
  readonly #fetch: FetchLike;
  readonly #codec: Codec;
  readonly #abort = new AbortController();
  #es: EventSourceLike | undefined;
  #sender: HttpFrameSender | undefined;
  #session: string | undefined;
  #closed = false;

  constructor(baseUrl: string, events: ClientTransportEvents, codec: Codec, options: SseTransportOptions) {
    this.#base = httpBaseUrl(baseUrl);
    this.#events = events;
    this.#fetch = resolveFetch(options.fetch);
    this.#codec = codec;
    const ES = options.EventSource ?? (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
    const url = sessionOpenUrl(`${this.#base}${SSE_PATH}`, this.#codec);
    if (ES) queueMicrotask(() => this.#openEventSource(ES, url));
    else void this.#openFetch(url);
  }

  send(frame: ClientFrame): void {
    this.#sender?.send(frame);
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    if (this.#session !== undefined) postClose(this.#fetch, `${this.#base}${SSE_PATH}/${this.#session}/close`);
    this.#finish(code, reason);
  }

  #onEvent(e: StreamEvent): void {
    if (this.#closed) return;
    if (e.event === 'message') {
      this.#events.onFrame(frameFromText(e.data, this.#codec));
    } else if (e.event === 'session') {
      let id: unknown;
      try {
        id = (JSON.parse(e.data) as { session?: unknown }).session;
      } catch {
        id = undefined;
      }
      if (typeof id !== 'string') {
        this.#finish(ABNORMAL_CLOSE, 'malformed session event');
        return;
      }
      this.#session = id;
      this.#sender = new HttpFrameSender(
        `${this.#base}${SSE_PATH}/${encodeURIComponent(id)}`,
        this.#fetch,
        this.#codec,
        (code, reason) => this.#finish(code, reason),
        (frame) => {
          if (!this.#closed) this.#events.onFrame(frame);
        },
      );
      this.#events.onOpen();
    } else if (e.event === 'close') {
      const c = parseCloseEvent(e.data);
      this.#finish(c.code, c.reason);
    }
  }

  #openEventSource(ES: EventSourceConstructor, url: string): void {
    if (this.#closed) return;
    const es = new ES(url);
    this.#es = es;
    const data = (ev: { data: unknown }): string => (typeof ev.data === 'string' ? ev.data : String(ev.data));
    es.onmessage = (ev) => this.#onEvent({ event: 'message', data: data(ev) });
    es.addEventListener('session', (ev) => this.#onEvent({ event: 'session', data: data(ev) }));
    es.addEventListener('close', (ev) => this.#onEvent({ event: 'close', data: data(ev) }));
    // EventSource would reconnect by itself with a new session; the client does that instead.
    es.onerror = () => this.#finish(ABNORMAL_CLOSE, 'stream error');
  }

  async #openFetch(url: string): Promise<void> {
    try {
      const res = await fetchRetryingOnce(this.#fetch, url, {
        headers: { accept: 'text/event-stream' },
        cache: 'no-store',
        signal: this.#abort.signal,
      });
      if (!res.ok || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        this.#finish(ABNORMAL_CLOSE, `stream refused with HTTP ${res.status}`);
        return;
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      const parser = new EventStreamParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (this.#closed) {
          await reader.cancel().catch(() => undefined);
          return;
        }
        if (done) break;
        for (const e of parser.push(decoder.decode(value, { stream: true }))) this.#onEvent(e);
      }
      this.#finish(ABNORMAL_CLOSE, 'stream ended');
    } catch {
      this.#finish(ABNORMAL_CLOSE, 'stream error');
    }
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sender?.close();
    this.#abort.abort();
    if (this.#es) {
      this.#es.onmessage = this.#es.onerror = null;
      this.#es.close();
    }
    this.#events.onClose(code, reason);
  }
}

/**
 * Creates the SSE transport: server→client frames on an event stream,
 * client→server frames by POST. No sticky sessions needed (see docs/transports.md).
 */
export function sseTransport(options: SseTransportOptions = {}): TransportFactory {
  return async (baseUrl, events, codec): Promise<ClientTransport> =>
    new SseClientTransport(baseUrl, events, codec, options);
}
