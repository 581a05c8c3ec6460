import type { IncomingMessage, ServerResponse } from 'node:http';
import { CODEC_PARAM, type Codec, SynclineError } from '@syncline/protocol';
import { type HttpRouter, readBody, sendJson } from '../http/router.js';
import { HttpSessionRegistry } from './http-sessions.js';
import { LongPollConnection } from './longpoll.js';
import type { ForwardedRequest, ForwardedResponse, SessionForwarder } from './session-forwarder.js';
import { LocalSessionForwarder } from './session-forwarder.js';
import { SseConnection } from './sse.js';
import type { ConnectionHandler, Transport } from './transport.js';

/** Path of the SSE stream; frames go to `POST {SSE_PATH}/:session`. */
export const SSE_PATH = '/connect/sse';
/** Path that opens a long-polling session; polls are `GET {POLL_PATH}/:session`. */
export const POLL_PATH = '/connect/poll';

/** Options of the HTTP fallback transports (SSE + POST, long-polling). */
export interface HttpTransportOptions {
  /** Serve SSE and long-polling (default true). */
  readonly enabled?: boolean;
  /** Longest a long-poll waits for frames before answering empty (default 20 s; keep it under proxy timeouts). */
  readonly pollTimeoutMs?: number;
  /** A long-polling session with no poll outstanding for this long is closed (default 45 s). */
  readonly idleTimeoutMs?: number;
  /** How requests for sessions of other nodes reach them (default in-process; cluster adapters supply theirs). */
  readonly forwarder?: SessionForwarder;
}

/** What the HTTP transports need from the server. */
export interface HttpTransportContext {
  readonly nodeId: string;
  readonly maxFrameBytes: number;
  /** POST bodies above it are refused with 413. */
  readonly maxBodyBytes: number;
  readonly onConnection: ConnectionHandler;
  /** Codecs a session may pick with `?codec=` (or `x-syncline-codec`); the first is the default. */
  readonly codecs: readonly Codec[];
  /**
   * Checked before a session is opened: an error (`too_many_connections`)
   * refuses it with 429 and the error JSON, before anything is allocated.
   */
  readonly admit?: (req: IncomingMessage) => SynclineError | undefined;
}

/** On shutdown, how long open streams and polls get to deliver their last frames. */
const SHUTDOWN_DRAIN_MS = 2_000;
const DRAIN_CHECK_MS = 10;

function writeResponse(res: ServerResponse, r: ForwardedResponse): void {
  if (res.headersSent || res.destroyed) return;
  if (r.status === 204) {
    res.writeHead(204, { 'cache-control': 'no-store' });
    res.end();
    return;
  }
  res.writeHead(r.status, {
    'cache-control': 'no-store',
    'content-type': r.contentType ?? 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(r.body),
  });
  res.end(r.body);
}

/**
 * SSE + POST and long-polling, registered on the server's router. Both carry
 * the same frames as the WebSocket transport and hand each session to the same
 * connection handler, so the core treats them alike.
 */
export class HttpTransports implements Transport {
  readonly name = 'http';
  readonly registry: HttpSessionRegistry;
  readonly #ctx: HttpTransportContext;
  readonly #timing: { pollTimeoutMs: number; idleTimeoutMs: number };
  /** Open SSE streams and pending polls: shutdown lets them deliver their last frames. */
  readonly #open = new Set<ServerResponse>();

  constructor(router: HttpRouter, ctx: HttpTransportContext, options: HttpTransportOptions = {}) {
    this.#ctx = ctx;
    this.#timing = { pollTimeoutMs: options.pollTimeoutMs ?? 20_000, idleTimeoutMs: options.idleTimeoutMs ?? 45_000 };
    this.registry = new HttpSessionRegistry(
      ctx.nodeId,
      { maxFrameBytes: ctx.maxFrameBytes, maxBodyBytes: ctx.maxBodyBytes },
      options.forwarder ?? new LocalSessionForwarder(),
    );
    router.add('GET', SSE_PATH, (req, res) => this.#openSse(req, res));
    router.add('POST', `${SSE_PATH}/:session`, (req, res, p) => this.#send(req, res, p));
    router.add('POST', `${SSE_PATH}/:session/close`, (_req, res, p) => this.#relay(res, this.#closeReq(p)));
    router.add('POST', POLL_PATH, (req, res) => this.#openPoll(req, res));
    router.add('GET', `${POLL_PATH}/:session`, (_req, res, p) => {
      this.#track(res);
      return this.#relay(res, { kind: 'poll', session: p.session ?? '' });
    });
    router.add('POST', `${POLL_PATH}/:session`, (req, res, p) => this.#send(req, res, p));
    router.add('POST', `${POLL_PATH}/:session/close`, (_req, res, p) => this.#relay(res, this.#closeReq(p)));
  }

  /** Closes every session, then waits (briefly) until their streams and polls have delivered the close. */
  async close(): Promise<void> {
    this.registry.closeAll(4008, 'server closing');
    // Long-polling clients between two polls learn about the close on their next poll.
    const deadline = Date.now() + SHUTDOWN_DRAIN_MS;
    while ((this.#open.size > 0 || this.registry.size > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, DRAIN_CHECK_MS));
    }
  }

  #track(res: ServerResponse): void {
    this.#open.add(res);
    const done = (): void => {
      this.#open.delete(res);
    };
    res.once('finish', done);
    res.once('close', done);
  }

  /** Answers 429 with the error JSON when the connection limits refuse a new session. */
  #refused(req: IncomingMessage, res: ServerResponse): boolean {
    const err = this.#ctx.admit?.(req);
    if (err === undefined) return false;
    req.resume();
    const retryAfterMs = err.retryAfterMs ?? 1_000;
    res.setHeader('retry-after', String(Math.ceil(retryAfterMs / 1000)));
    res.setHeader('cache-control', 'no-store');
    sendJson(res, 429, { error: { code: err.code, message: err.message, retryAfterMs, details: err.details } });
    return true;
  }

  /**
   * The codec a new session asks for (`?codec=msgpack` or the
   * `x-syncline-codec` header; default the first the server speaks), or
   * undefined after answering 400 when the server does not speak it.
   */
  #codecOf(req: IncomingMessage, res: ServerResponse): Codec | undefined {
    const codecs = this.#ctx.codecs;
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get(CODEC_PARAM);
    const header = req.headers[`x-syncline-${CODEC_PARAM}`];
    const name = query ?? (typeof header === 'string' ? header : undefined);
    if (name === undefined) return codecs[0];
    const codec = codecs.find((c) => c.name === name);
    if (codec !== undefined) return codec;
    req.resume();
    const err = new SynclineError(
      'invalid_request',
      `Unknown codec "${name.slice(0, 40)}"; this server speaks ${codecs.map((c) => c.name).join(', ')}.`,
    );
    sendJson(res, 400, { error: { code: err.code, message: err.message } });
    return undefined;
  }

  #openSse(req: IncomingMessage, res: ServerResponse): void {
    if (this.#refused(req, res)) return;
    const codec = this.#codecOf(req, res);
    if (codec === undefined) return;
    this.#track(res);
    const conn = new SseConnection(this.registry.newId(), req, res, this.registry, codec);
    this.registry.add(conn);
    this.#ctx.onConnection(conn, req);
  }

  #openPoll(req: IncomingMessage, res: ServerResponse): void {
    if (this.#refused(req, res)) return;
    const codec = this.#codecOf(req, res);
    if (codec === undefined) return;
    req.resume();
    const conn = new LongPollConnection(this.registry.newId(), req, this.registry, this.#timing, codec);
    this.registry.add(conn);
    this.#ctx.onConnection(conn, req);
    res.setHeader('cache-control', 'no-store');
    sendJson(res, 200, { session: conn.id, transport: conn.transport, codec: codec.name });
  }

  async #send(req: IncomingMessage, res: ServerResponse, p: Record<string, string>): Promise<void> {
    const body = await readBody(req, this.#ctx.maxBodyBytes);
    await this.#relay(res, { kind: 'send', session: p.session ?? '', body: body.toString('utf8') });
  }

  #closeReq(p: Record<string, string>): ForwardedRequest {
    return { kind: 'close', session: p.session ?? '' };
  }

  async #relay(res: ServerResponse, request: ForwardedRequest): Promise<void> {
    writeResponse(res, await this.registry.dispatch(request));
  }
}
