import { randomUUID } from 'node:crypto';
import {
  handshakeSubprotocolFor,
  handshakeSubprotocols,
  jsonCodec,
  msgpackCodec,
  PROTOCOL_VERSION,
  subprotocolFor,
} from '@syncline/protocol';
import { WebSocket } from 'ws';
import { type BenchConn, Pending, type PubHandler, received } from './bench-conn.js';

/** Codec a Syncline bench client speaks. */
export type BenchCodec = 'json' | 'msgpack';

interface Position {
  epoch: string;
  offset: number;
}

/** Whether `connect` rides in the upgrade request (the handshake connect); `BENCH_HANDSHAKE_CONNECT=0` sends it as a frame. */
const HANDSHAKE_CONNECT = process.env.BENCH_HANDSHAKE_CONNECT !== '0';

/** `{"type":"pong"}` in MessagePack. */
const PONG_MSGPACK = msgpackCodec.encode({ type: 'pong' });

/** Called for every document patch a connection receives. */
export type DocPatchHandler = (doc: string, version: number, patches: ReadonlyArray<{ value?: unknown }>) => void;

interface ServerMessage {
  type: string;
  doc?: string;
  version?: number;
  patches?: Array<{ value?: unknown }>;
  id?: number;
  channel?: string;
  offset?: number;
  data?: unknown;
  result?: { epoch: string; offset: number; publications?: Array<{ offset: number; data: unknown }> };
  code?: string;
  message?: string;
}

/**
 * Syncline protocol client over raw `ws` (connect, subscribe with recovery,
 * publish). With the JSON codec (`syncline.json`, text frames) commands are
 * built as strings by hand; with MessagePack (`syncline.msgpack`, binary
 * frames) every command is an object encoded with `msgpackCodec` and every
 * frame is decoded with it.
 */
export class SynclineConn implements BenchConn {
  readonly #url: string;
  readonly #token: string;
  readonly #onPub: PubHandler;
  readonly #msgpack: boolean;
  readonly #pending = new Pending();
  readonly #positions = new Map<string, Position>();
  readonly #subscribing = new Map<number, string>();
  #ws: WebSocket | undefined;
  #mutationId = 0;
  /** Receives document patches (documents scenario). */
  onDocPatch: DocPatchHandler | undefined;

  constructor(url: string, token: string, onPub: PubHandler, codec: BenchCodec = 'json') {
    this.#url = url;
    this.#token = token;
    this.#onPub = onPub;
    this.#msgpack = codec === 'msgpack';
  }

  /** Subscribes to a document as client `clientId`; resolves with its version. */
  async docSubscribe(doc: string, clientId: string): Promise<number> {
    const r = (await this.#request({ type: 'doc.subscribe', doc, clientId })) as { version: number };
    return r.version;
  }

  /** Runs a mutator (next mutation id of this connection); resolves with the new version. */
  async mutate(doc: string, clientId: string, name: string, argsJson: string): Promise<number> {
    const { id, done } = this.#pending.open();
    const mutationId = ++this.#mutationId;
    if (this.#msgpack) {
      const args: unknown = JSON.parse(argsJson);
      this.#ws?.send(msgpackCodec.encode({ type: 'doc.mutate', id, doc, clientId, mutationId, name, args }));
    } else {
      this.#ws?.send(
        `{"type":"doc.mutate","id":${id},"doc":${JSON.stringify(doc)},"clientId":"${clientId}","mutationId":${mutationId},"name":"${name}","args":${argsJson}}`,
      );
    }
    return ((await done) as { version: number }).version;
  }

  open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const codec = this.#msgpack ? msgpackCodec : jsonCodec;
      const { id, done } = this.#pending.open();
      const connect = { type: 'connect', id, protocol: PROTOCOL_VERSION, token: this.#token };
      // The handshake connect: `connect` rides in the upgrade request and its
      // reply comes with the upgrade response (a server without it selects
      // the plain subprotocol and gets the frame).
      const protocols = (HANDSHAKE_CONNECT && handshakeSubprotocols(codec, connect)) || [subprotocolFor(codec)];
      const ws = new WebSocket(this.#url, protocols, { perMessageDeflate: false });
      this.#ws = ws;
      done.then(() => resolve(), reject);
      ws.on('open', () => {
        if (ws.protocol === handshakeSubprotocolFor(codec)) return;
        ws.send(this.#msgpack ? msgpackCodec.encode(connect) : JSON.stringify(connect));
      });
      ws.on('message', (data: Buffer) => {
        received.bytes += data.length;
        this.#onFrame(data);
      });
      ws.on('error', (err) => reject(err));
      ws.on('close', () => {
        this.#pending.failAll(new Error('connection closed'));
        reject(new Error('connection closed'));
      });
    });
  }

  async subscribe(channel: string): Promise<void> {
    const pos = this.#positions.get(channel);
    const { id, done } = this.#pending.open();
    // The reply is handled synchronously (see #onMessage) so that live
    // publications batched right after it advance the position in order.
    this.#subscribing.set(id, channel);
    if (this.#msgpack) {
      const cmd =
        pos === undefined ? { type: 'subscribe', id, channel } : { type: 'subscribe', id, channel, since: pos };
      this.#ws?.send(msgpackCodec.encode(cmd));
      await done;
      return;
    }
    const since = pos === undefined ? '' : `,"since":{"epoch":${JSON.stringify(pos.epoch)},"offset":${pos.offset}}`;
    this.#ws?.send(`{"type":"subscribe","id":${id},"channel":${JSON.stringify(channel)}${since}}`);
    await done;
  }

  /** Publishes with a random idempotency key, as the SDK does for every publish. */
  publish(channel: string, json: string): Promise<void> {
    const { id, done } = this.#pending.open();
    const key = randomUUID();
    if (this.#msgpack) {
      const data: unknown = JSON.parse(json);
      this.#ws?.send(msgpackCodec.encode({ type: 'publish', id, channel, key, data }));
      return done as Promise<never>;
    }
    this.#ws?.send(`{"type":"publish","id":${id},"channel":${JSON.stringify(channel)},"key":"${key}","data":${json}}`);
    return done as Promise<never>;
  }

  async reopen(): Promise<void> {
    await this.open();
    for (const channel of [...this.#positions.keys()]) await this.subscribe(channel);
  }

  terminate(): void {
    this.#ws?.terminate();
  }

  close(): void {
    this.#ws?.close();
  }

  #request(cmd: Record<string, unknown>): Promise<unknown> {
    const { id, done } = this.#pending.open();
    const message = { ...cmd, id };
    this.#ws?.send(this.#msgpack ? msgpackCodec.encode(message) : JSON.stringify(message));
    return done;
  }

  #onFrame(data: Buffer): void {
    const parsed = (this.#msgpack ? msgpackCodec.decode(data) : JSON.parse(data.toString())) as
      | ServerMessage
      | ServerMessage[];
    if (Array.isArray(parsed)) for (const m of parsed) this.#onMessage(m);
    else this.#onMessage(parsed);
  }

  #onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'pub': {
        const channel = m.channel as string;
        const pos = this.#positions.get(channel);
        if (pos && m.offset !== undefined) pos.offset = m.offset;
        this.#onPub(channel, m.data, false);
        return;
      }
      case 'reply': {
        const channel = this.#subscribing.get(m.id as number);
        if (channel !== undefined && m.result) {
          this.#subscribing.delete(m.id as number);
          const pubs = m.result.publications ?? [];
          for (const p of pubs) this.#onPub(channel, p.data, true);
          this.#positions.set(channel, { epoch: m.result.epoch, offset: m.result.offset });
        }
        this.#pending.settle(m.id as number, m.result);
        return;
      }
      case 'error':
        if (m.id !== undefined) {
          this.#subscribing.delete(m.id);
          this.#pending.fail(m.id, new Error(`${m.code}: ${m.message}`));
        }
        return;
      case 'doc.patch':
        this.onDocPatch?.(m.doc as string, m.version as number, m.patches ?? []);
        return;
      case 'ping':
        this.#ws?.send(this.#msgpack ? PONG_MSGPACK : '{"type":"pong"}');
        return;
      default:
        return;
    }
  }
}
