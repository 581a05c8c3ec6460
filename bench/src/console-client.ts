import { PROTOCOL_VERSION } from '@syncline/protocol';
import WebSocket from 'ws';
import { BENCH_ADMIN_KEY } from './servers/bench-server.js';

/** What one open console did while it was open. */
export interface ConsoleTraffic {
  /** HTTP requests it made (sign-in, token, pages, polls). */
  readonly requests: number;
  /** Of which at sign-in (sign-in, token, the first load of the pages). */
  readonly openingRequests: number;
  /** Requests answered with an error status or failed. */
  readonly failures: number;
  /** Frames received on its Syncline connection (overview snapshots, pings, replies). */
  readonly frames: number;
  /** How long it was open, ms (from the sign-in). */
  readonly openMs: number;
  /** How long it polled, ms (after the first load). */
  readonly pollingMs: number;
}

/** Overview poll interval, and the nodes and channels pages' (as the console polls them). */
const OVERVIEW_MS = 2_000;
const PAGES_MS = 5_000;

/**
 * One operator console kept open on a node: signs in with the admin key,
 * gets a console token, holds a Syncline connection subscribed to
 * `syncline-admin:overview`, loads the overview, nodes and channels pages
 * and polls them like an open browser tab (overview every 2 s, nodes and the
 * first 50 channels every 5 s).
 */
export class BenchConsole {
  #requests = 0;
  #failures = 0;
  #frames = 0;
  #openingRequests = 0;
  #openedMs = 0;
  readonly #openedAt = performance.now();
  readonly #timers: NodeJS.Timeout[] = [];
  #ws: WebSocket | undefined;

  private constructor(
    private readonly base: string,
    private cookie: string,
  ) {}

  /** Opens a console on the node whose WebSocket URL is `wsUrl`. */
  static async open(wsUrl: string): Promise<BenchConsole> {
    const base = new URL(wsUrl).origin.replace(/^ws/, 'http');
    const c = new BenchConsole(base, '');
    const res = await c.#fetch('/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: BENCH_ADMIN_KEY }),
    });
    if (!res.ok) throw new Error(`console: sign-in answered ${res.status}`);
    await res.text();
    const cookie = res.headers.getSetCookie().find((h) => h.startsWith('syncline_admin='));
    if (!cookie) throw new Error('console: no session cookie');
    c.cookie = cookie.split(';')[0] as string;
    const tokenRes = await c.#fetch('/admin/api/token');
    if (!tokenRes.ok) throw new Error(`console: token answered ${tokenRes.status}`);
    const { token } = (await tokenRes.json()) as { token: string };
    await c.#connect(wsUrl, token);
    await Promise.all([c.#get('/admin/api/overview'), c.#pages()]);
    c.#openingRequests = c.#requests;
    c.#openedMs = performance.now();
    c.#timers.push(setInterval(() => void c.#get('/admin/api/overview'), OVERVIEW_MS));
    c.#timers.push(setInterval(() => void c.#pages(), PAGES_MS));
    return c;
  }

  /** Closes the console; what it did while open. */
  close(): ConsoleTraffic {
    for (const t of this.#timers) clearInterval(t);
    this.#ws?.terminate();
    return {
      requests: this.#requests,
      openingRequests: this.#openingRequests,
      pollingMs: performance.now() - this.#openedMs,
      failures: this.#failures,
      frames: this.#frames,
      openMs: performance.now() - this.#openedAt,
    };
  }

  async #connect(wsUrl: string, token: string): Promise<void> {
    const ws = new WebSocket(wsUrl, ['syncline.json']);
    this.#ws = ws;
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (raw) => {
        this.#frames++;
        const parsed = JSON.parse(raw.toString()) as unknown;
        for (const m of (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ type?: string; id?: number }>) {
          if (m.type === 'ping') ws.send('{"type":"pong"}');
          else if (m.type === 'error') reject(new Error(`console: refused: ${JSON.stringify(m)}`));
          else if (m.id === 2) resolve();
        }
      });
      ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token }));
      ws.send(JSON.stringify({ type: 'subscribe', id: 2, channel: 'syncline-admin:overview' }));
    });
  }

  #pages(): Promise<unknown> {
    return Promise.all([this.#get('/v1/nodes'), this.#get('/v1/channels?limit=50')]);
  }

  async #get(path: string): Promise<void> {
    try {
      const res = await this.#fetch(path);
      await res.arrayBuffer();
      if (!res.ok) this.#failures++;
    } catch {
      this.#failures++;
    }
  }

  #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    this.#requests++;
    const headers = { ...(init.headers as Record<string, string>), ...(this.cookie ? { cookie: this.cookie } : {}) };
    return fetch(`${this.base}${path}`, { ...init, headers });
  }
}
