import { WebSocket } from 'ws';
import { type BenchConn, Pending, type PubHandler, received } from './bench-conn.js';

/**
 * Socket.IO v4 client speaking the engine.io/socket.io wire format directly
 * over `ws` (websocket transport only): `40` connect (with `pid`/`offset` to
 * use connection state recovery), `42["event",…]` events, `43id[…]` acks,
 * engine.io ping `2` / pong `3`.
 */
export class SocketIoConn implements BenchConn {
  readonly #url: string;
  readonly #onPub: PubHandler;
  readonly #pending = new Pending();
  readonly #channels = new Set<string>();
  #ws: WebSocket | undefined;
  #pid: string | undefined;
  #offset: string | undefined;
  #recovered = false;
  #onConnected: ((ok: boolean) => void) | undefined;
  #replaying = false;

  constructor(baseUrl: string, onPub: PubHandler) {
    this.#url = `${baseUrl}/socket.io/?EIO=4&transport=websocket`;
    this.#onPub = onPub;
  }

  open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.#url, { perMessageDeflate: false });
      this.#ws = ws;
      this.#onConnected = (ok) => (ok ? resolve() : reject(new Error('socket.io connect refused')));
      ws.on('message', (data: Buffer) => {
        received.bytes += data.length;
        this.#onPacket(data.toString());
      });
      ws.on('error', (err) => reject(err));
      ws.on('close', () => {
        this.#pending.failAll(new Error('connection closed'));
        reject(new Error('connection closed'));
      });
    });
  }

  async subscribe(channel: string): Promise<void> {
    this.#channels.add(channel);
    await this.#emit(`["sub",${JSON.stringify(channel)}]`);
  }

  publish(channel: string, json: string): Promise<void> {
    return this.#emit(`["pub",${JSON.stringify(channel)},${json}]`) as Promise<never>;
  }

  async reopen(): Promise<void> {
    this.#replaying = true;
    await this.open();
    if (this.#recovered) return;
    // Not recovered: rooms are gone, join again (missed packets are lost).
    this.#replaying = false;
    for (const channel of this.#channels) await this.subscribe(channel);
  }

  terminate(): void {
    this.#ws?.terminate();
  }

  close(): void {
    this.#ws?.close();
  }

  #emit(args: string): Promise<unknown> {
    const { id, done } = this.#pending.open();
    this.#ws?.send(`42${id}${args}`);
    return done;
  }

  #onPacket(text: string): void {
    const eio = text.charCodeAt(0);
    if (eio === 0x34 /* '4' message */) {
      const sio = text.charCodeAt(1);
      if (sio === 0x32 /* '2' event */) {
        const args = JSON.parse(text.slice(2)) as unknown[];
        if (args[0] === 'pub') {
          if (args.length > 3) this.#offset = args[3] as string;
          this.#onPub(args[1] as string, args[2], this.#replaying);
        }
        return;
      }
      if (sio === 0x33 /* '3' ack */) {
        const bracket = text.indexOf('[');
        this.#pending.settle(Number(text.slice(2, bracket)), undefined);
        return;
      }
      if (sio === 0x30 /* '0' connect */) {
        const info = JSON.parse(text.slice(2)) as { sid: string; pid?: string };
        this.#recovered = info.pid !== undefined && info.pid === this.#pid;
        this.#pid = info.pid;
        // Replayed packets follow the CONNECT packet; they end with this tick's frames.
        if (this.#replaying) setTimeout(() => (this.#replaying = false), 0);
        this.#onConnected?.(true);
        return;
      }
      if (sio === 0x34 /* '4' connect error */) this.#onConnected?.(false);
      return;
    }
    if (eio === 0x30 /* '0' open */) {
      const auth = this.#pid === undefined ? '' : JSON.stringify({ pid: this.#pid, offset: this.#offset });
      this.#ws?.send(`40${auth}`);
      return;
    }
    if (eio === 0x32 /* '2' ping */) this.#ws?.send('3');
  }
}
