import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Codec } from '@syncline/protocol';
import { formatCloseEvent, formatEvent, frameText } from './event-stream.js';
import { HttpSessionConnection, type HttpSessionRegistry } from './http-sessions.js';

/** A stream that does not drain within this time after `close` is cut. */
const CLOSE_DRAIN_MS = 5_000;

/** Response headers of the event stream: no caching, no buffering by proxies. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-store, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
} as const;

/**
 * Server-sent events downstream, HTTP POST upstream. The stream's first event
 * (`session`) names the session id the client POSTs its frames to and the
 * codec; every other default event is one frame (base64 for a binary codec);
 * a `close` event carries the close code and reason just before the stream
 * ends.
 */
export class SseConnection extends HttpSessionConnection {
  readonly transport = 'sse';
  readonly #res: ServerResponse;
  readonly #registry: HttpSessionRegistry;

  constructor(id: string, req: IncomingMessage, res: ServerResponse, registry: HttpSessionRegistry, codec: Codec) {
    super(id, req.socket.remoteAddress ?? '', codec);
    this.#res = res;
    this.#registry = registry;
    res.writeHead(200, SSE_HEADERS);
    res.write(formatEvent(JSON.stringify({ session: id, codec: codec.name }), 'session'));
    res.on('close', () => {
      registry.remove(this);
      this.finish(1006, 'stream closed');
    });
  }

  get bufferedAmount(): number {
    return this.closed ? 0 : this.#res.writableLength;
  }

  send(frame: string | Uint8Array): void {
    if (this.closed || this.#res.writableEnded) return;
    this.#res.write(formatEvent(frameText(frame)));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.#registry.remove(this);
    const res = this.#res;
    if (!res.writableEnded && !res.destroyed) {
      res.end(formatCloseEvent(code, reason.slice(0, 120)));
      // A peer that does not read the rest is cut after a while.
      const timer = setTimeout(() => res.destroy(), CLOSE_DRAIN_MS);
      timer.unref();
      res.once('close', () => clearTimeout(timer));
    }
    this.finish(code, reason);
  }
}
