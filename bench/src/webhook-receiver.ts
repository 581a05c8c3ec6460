import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs, sleep } from './clock.js';
import { Histogram } from './histogram.js';
import { median } from './results.js';

/** What the receiver saw since its last reset. */
export interface ReceiverReport {
  /** Distinct events received. */
  readonly events: number;
  /** Events received again (same id). */
  readonly duplicates: number;
  /** Webhook requests (batches). */
  readonly requests: number;
  /** Publish (the publisher's stamp in the payload) to receipt of the request holding it, ms. */
  readonly lagMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Events per request. */
  readonly batch: { readonly mean: number; readonly p50: number; readonly max: number };
}

interface WebhookEvent {
  readonly id?: unknown;
  readonly data?: { readonly data?: { readonly t?: unknown } };
}

/**
 * A webhook receiver on loopback that answers every request `204` at once:
 * it only parses the body, counts distinct event ids and records, per
 * publication event, the time from the publisher's stamp to the request's
 * arrival, and the events per request. It does not check signatures, so it
 * costs the server nothing a real receiver would not.
 */
export class WebhookReceiver {
  readonly #server: Server;
  readonly url: string;
  #ids = new Set<string>();
  #duplicates = 0;
  #requests = 0;
  #lag = new Histogram();
  #batches: number[] = [];

  private constructor(server: Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  /** Listens on a free port of 127.0.0.1. */
  static async start(): Promise<WebhookReceiver> {
    let receive: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
    const server = createServer((req, res) => receive(req, res));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`);
    receive = (req, res) => receiver.#receive(req, res);
    return receiver;
  }

  #receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = nowMs();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookEvent | WebhookEvent[];
      const events = Array.isArray(body) ? body : [body];
      this.#requests++;
      this.#batches.push(events.length);
      for (const e of events) {
        const id = String(e.id);
        if (this.#ids.has(id)) this.#duplicates++;
        else this.#ids.add(id);
        const t = e.data?.data?.t;
        if (typeof t === 'number') this.#lag.record((at - t) * 1000);
      }
      res.writeHead(204).end();
    });
  }

  /** Distinct events received since the last reset. */
  get events(): number {
    return this.#ids.size;
  }

  /** Forgets everything received (the start of a phase). */
  reset(): void {
    this.#ids = new Set();
    this.#duplicates = 0;
    this.#requests = 0;
    this.#lag = new Histogram();
    this.#batches = [];
  }

  /** Waits until `count` distinct events arrived; false if they did not within `timeoutMs`. */
  async waitFor(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#ids.size < count) {
      if (Date.now() > deadline) return false;
      await sleep(10);
    }
    return true;
  }

  report(): ReceiverReport {
    const ms = (us: number): number => Math.round(us) / 1000;
    const events = this.#ids.size + this.#duplicates;
    return {
      events: this.#ids.size,
      duplicates: this.#duplicates,
      requests: this.#requests,
      lagMs: { p50: ms(this.#lag.quantile(0.5)), p99: ms(this.#lag.quantile(0.99)), max: ms(this.#lag.quantile(1)) },
      batch: {
        mean: this.#requests > 0 ? events / this.#requests : 0,
        p50: median(this.#batches),
        max: Math.max(0, ...this.#batches),
      },
    };
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
