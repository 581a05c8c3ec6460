import { type Codec, decodeBase64, encodeBase64, jsonCodec } from '@syncline/protocol';
// A binary codec's frames travel as base64 lines both ways.
import type { ClientFrame } from './transport.js';

/** A `fetch` implementation (the global one by default). */
export type FetchLike = typeof fetch;

/** Options shared by the HTTP transports (SSE, long-polling). */
export interface HttpTransportOptions {
  /** `fetch` implementation (default the global one). */
  readonly fetch?: FetchLike;
}

/** The URL that opens a session at `endpoint` with `codec` (JSON, the default, adds nothing). */
export function sessionOpenUrl(endpoint: string, codec: Codec): string {
  return codec === jsonCodec ? endpoint : `${endpoint}?codec=${encodeURIComponent(codec.name)}`;
}

/** A frame as a line of text: text frames as they are, binary frames as base64. */
function frameLine(frame: ClientFrame): string {
  return typeof frame === 'string' ? frame : encodeBase64(frame);
}

/**
 * A frame received as event text: for a binary codec the base64 is decoded
 * (text that is not base64 is handed on as is, for the codec to refuse).
 */
export function frameFromText(text: string, codec: Codec): ClientFrame {
  if (!codec.binary) return text;
  try {
    return decodeBase64(text);
  } catch {
    return text;
  }
}

/** Path of the server's SSE endpoint. */
export const SSE_PATH = '/connect/sse';
/** Path of the server's long-polling endpoint. */
export const POLL_PATH = '/connect/poll';

/** Close code reported when an HTTP transport loses its session or stream (as WebSocket's 1006). */
export const ABNORMAL_CLOSE = 1006;

/** Largest POST body the client builds from queued frames (bigger single frames go alone). */
const MAX_POST_BYTES = 256 * 1024;

/** Turns a base URL (http(s), or a ws(s) endpoint URL) into the HTTP base the endpoints hang off. */
export function httpBaseUrl(base: string): string {
  const u = new URL(base);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  let path = u.pathname;
  if (path.endsWith('/connect/ws')) path = path.slice(0, -'/connect/ws'.length);
  if (path.endsWith('/')) path = path.slice(0, -1);
  return `${u.origin}${path}`;
}

/**
 * The given `fetch`, else the global one, or an error when there is none.
 * The global is wrapped so it is never called as a method of another object:
 * browsers refuse that ("Illegal invocation"), Node does not.
 */
export function resolveFetch(f: FetchLike | undefined): FetchLike {
  if (f) return f;
  const g = (globalThis as { fetch?: FetchLike }).fetch;
  if (!g) throw new Error('No fetch implementation available for the HTTP transports.');
  return (input, init) => g(input, init);
}

/**
 * Sends client frames to an HTTP session by POST: one request in flight at a
 * time (so the server sees frames in order), frames queued meanwhile go
 * together in the next body, one per line.
 */
export class HttpFrameSender {
  readonly #url: string;
  readonly #fetch: FetchLike;
  readonly #onFail: (code: number, reason: string) => void;
  readonly #onError: (frame: ClientFrame) => void;
  readonly #codec: Codec;
  #queue: string[] = [];
  #inFlight = false;
  #closed = false;

  /**
   * `onFail` is called when the session is gone or unreachable; `onError`
   * receives an `error` frame for a body the server refused (400/413), as the
   * WebSocket transport would have received it in-band.
   */
  constructor(
    url: string,
    fetchFn: FetchLike,
    codec: Codec,
    onFail: (code: number, reason: string) => void,
    onError: (frame: ClientFrame) => void,
  ) {
    this.#url = url;
    this.#codec = codec;
    this.#fetch = fetchFn;
    this.#onFail = onFail;
    this.#onError = onError;
  }

  send(frame: ClientFrame): void {
    if (this.#closed) return;
    this.#queue.push(frameLine(frame));
    if (!this.#inFlight) void this.#pump();
  }

  close(): void {
    this.#closed = true;
    this.#queue = [];
  }

  async #pump(): Promise<void> {
    this.#inFlight = true;
    while (this.#queue.length > 0 && !this.#closed) {
      let n = 0;
      let bytes = 0;
      while (n < this.#queue.length && (n === 0 || bytes + (this.#queue[n] as string).length < MAX_POST_BYTES)) {
        bytes += (this.#queue[n] as string).length + 1;
        n++;
      }
      const body = this.#queue.splice(0, n).join('\n');
      try {
        const res = await this.#fetch(this.#url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'text/plain;charset=UTF-8' },
          cache: 'no-store',
        });
        const text = res.status === 204 ? '' : await res.text();
        if (this.#closed) break;
        if (res.ok) continue;
        if (res.status === 400 || res.status === 413) {
          const err = parseErrorBody(text);
          if (err) this.#onError(this.#codec.encode({ type: 'error', ...err }));
          continue;
        }
        this.#closed = true;
        this.#onFail(ABNORMAL_CLOSE, res.status === 404 ? 'session not found' : `POST failed with HTTP ${res.status}`);
      } catch {
        if (!this.#closed) {
          this.#closed = true;
          this.#onFail(ABNORMAL_CLOSE, 'POST failed');
        }
      }
    }
    this.#inFlight = false;
  }
}

/** `{ error: { code, message } }` of an error answer, if the body is one. */
function parseErrorBody(text: string): { code: string; message: string } | undefined {
  try {
    const v = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (v.error && typeof v.error.code === 'string') {
      return { code: v.error.code, message: String(v.error.message ?? '') };
    }
  } catch {
    // Not JSON: nothing to report in-band.
  }
  return undefined;
}

/** Parses a `close` event's data. */
export function parseCloseEvent(data: string): { code: number; reason: string } {
  try {
    const v = JSON.parse(data) as { code?: unknown; reason?: unknown };
    if (typeof v.code === 'number') return { code: v.code, reason: String(v.reason ?? '') };
  } catch {
    // Fall through.
  }
  return { code: ABNORMAL_CLOSE, reason: 'malformed close event' };
}

/**
 * Fetches, retrying once right away when the request failed before any
 * answer (a pooled keep-alive connection the server had just closed). Only
 * for requests that are safe to repeat (opening a stream or a session).
 */
export async function fetchRetryingOnce(fetchFn: FetchLike, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchFn(url, init);
  } catch (err) {
    if (init.signal?.aborted) throw err;
    return fetchFn(url, init);
  }
}

/** Tells the server the session is over; best effort, errors ignored. */
export function postClose(fetchFn: FetchLike, url: string): void {
  fetchFn(url, { method: 'POST', body: '', keepalive: true }).then(
    (r) => r.text().catch(() => undefined),
    () => undefined,
  );
}
