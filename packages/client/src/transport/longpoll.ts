import type { Codec } from '@syncline/protocol';
import { EventStreamParser } from './event-stream.js';
import {
  ABNORMAL_CLOSE,
  type FetchLike,
  fetchRetryingOnce,
  frameFromText,
  HttpFrameSender,
  type HttpTransportOptions,
  httpBaseUrl,
  POLL_PATH,
  parseCloseEvent,
  postClose,
  resolveFetch,
  sessionOpenUrl,
} from './http-common.js';
import type { ClientFrame, ClientTransport, ClientTransportEvents, TransportFactory } from './transport.js';

class LongPollClientTransport implements ClientTransport {
  readonly name = 'longpoll';
  readonly #base: string;
  readonly #events: ClientTransportEvents;
  readonly #fetch: FetchLike;
  readonly #codec: Codec;
  readonly #abort = new AbortController();
  #sender: HttpFrameSender | undefined;
  #sessionUrl: string | undefined;
  #closed = false;

  constructor(baseUrl: string, events: ClientTransportEvents, codec: Codec, options: HttpTransportOptions) {
    this.#base = httpBaseUrl(baseUrl);
    this.#events = events;
    this.#fetch = resolveFetch(options.fetch);
    this.#codec = codec;
    void this.#run();
  }

  send(frame: ClientFrame): void {
    this.#sender?.send(frame);
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    if (this.#sessionUrl !== undefined) postClose(this.#fetch, `${this.#sessionUrl}/close`);
    this.#finish(code, reason);
  }

  async #run(): Promise<void> {
    try {
      const res = await fetchRetryingOnce(this.#fetch, sessionOpenUrl(`${this.#base}${POLL_PATH}`, this.#codec), {
        method: 'POST',
        body: '',
        cache: 'no-store',
        signal: this.#abort.signal,
      });
      const text = await res.text();
      if (this.#closed) return;
      const session = res.ok ? (JSON.parse(text) as { session?: unknown }).session : undefined;
      if (typeof session !== 'string') {
        this.#finish(ABNORMAL_CLOSE, `open refused with HTTP ${res.status}`);
        return;
      }
      const url = `${this.#base}${POLL_PATH}/${encodeURIComponent(session)}`;
      this.#sessionUrl = url;
      this.#sender = new HttpFrameSender(
        url,
        this.#fetch,
        this.#codec,
        (code, reason) => this.#finish(code, reason),
        (frame) => {
          if (!this.#closed) this.#events.onFrame(frame);
        },
      );
      this.#events.onOpen();
      await this.#pollLoop(url);
    } catch {
      this.#finish(ABNORMAL_CLOSE, 'poll failed');
    }
  }

  async #pollLoop(url: string): Promise<void> {
    while (!this.#closed) {
      const res = await this.#fetch(url, { cache: 'no-store', signal: this.#abort.signal });
      const text = await res.text();
      if (this.#closed) return;
      if (res.status === 204) continue;
      if (!res.ok) {
        this.#finish(ABNORMAL_CLOSE, res.status === 404 ? 'session not found' : `poll failed with HTTP ${res.status}`);
        return;
      }
      const parser = new EventStreamParser();
      for (const e of parser.push(text)) {
        if (this.#closed) return;
        if (e.event === 'message') this.#events.onFrame(frameFromText(e.data, this.#codec));
        else if (e.event === 'close') {
          const c = parseCloseEvent(e.data);
          this.#finish(c.code, c.reason);
          return;
        }
      }
    }
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sender?.close();
    this.#abort.abort();
    this.#events.onClose(code, reason);
  }
}

/**
 * Creates the long-polling transport: the client polls (GET) for frames and
 * sends its own by POST. Works through proxies that buffer streaming responses.
 */
export function longPollTransport(options: HttpTransportOptions = {}): TransportFactory {
  return async (baseUrl, events, codec): Promise<ClientTransport> =>
    new LongPollClientTransport(baseUrl, events, codec, options);
}
