import { WebSocket } from 'ws';
import { type BenchConn, Pending, type PubHandler, received } from './bench-conn.js';

interface PeerMessage {
  a?: number;
  c?: string;
  o?: number;
  d?: unknown;
}

/** Client of the raw `ws` peer: `{t:"sub"|"pub"}` in, `{c,o,d}` publications and `{a}` acks out. */
export class WsConn implements BenchConn {
  readonly #url: string;
  readonly #onPub: PubHandler;
  readonly #pending = new Pending();
  readonly #offsets = new Map<string, number>();
  readonly #recovering = new Set<string>();
  #ws: WebSocket | undefined;

  constructor(url: string, onPub: PubHandler) {
    this.#url = url;
    this.#onPub = onPub;
  }

  open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.#url, { perMessageDeflate: false });
      this.#ws = ws;
      ws.on('open', () => resolve());
      ws.on('message', (data: Buffer) => {
        received.bytes += data.length;
        this.#onMessage(JSON.parse(data.toString()) as PeerMessage);
      });
      ws.on('error', (err) => reject(err));
      ws.on('close', () => {
        this.#pending.failAll(new Error('connection closed'));
        reject(new Error('connection closed'));
      });
    });
  }

  async subscribe(channel: string): Promise<void> {
    const since = this.#offsets.get(channel);
    const { id, done } = this.#pending.open();
    if (since !== undefined) this.#recovering.add(channel);
    const s = since === undefined ? '' : `,"s":${since}`;
    this.#ws?.send(`{"t":"sub","i":${id},"c":${JSON.stringify(channel)}${s}}`);
    const top = (await done) as number;
    this.#recovering.delete(channel);
    if (since === undefined) this.#offsets.set(channel, top);
  }

  publish(channel: string, json: string): Promise<void> {
    const { id, done } = this.#pending.open();
    this.#ws?.send(`{"t":"pub","i":${id},"c":${JSON.stringify(channel)},"d":${json}}`);
    return done as Promise<never>;
  }

  async reopen(): Promise<void> {
    await this.open();
    for (const channel of [...this.#offsets.keys()]) await this.subscribe(channel);
  }

  terminate(): void {
    this.#ws?.terminate();
  }

  close(): void {
    this.#ws?.close();
  }

  #onMessage(m: PeerMessage): void {
    if (m.a !== undefined) {
      this.#pending.settle(m.a, m.o);
      return;
    }
    const channel = m.c as string;
    if (this.#offsets.has(channel)) this.#offsets.set(channel, m.o as number);
    this.#onPub(channel, m.d, this.#recovering.has(channel));
  }
}
