import type { ReceivedPublication } from '@syncline/client';
import { CLOSE_CODES } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { testDocNamespace, testMutators } from './docs-fixtures.js';
import {
  client,
  describeValue,
  rawSocket,
  startServer,
  waitFor,
  waitForAtLeast,
  waitForValue,
  waitState,
} from './helpers.js';

async function get(url: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** Value of a metric line (first sample whose name and labels match). */
function metric(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest.startsWith('{') && !rest.includes(labels)) continue;
    if (!rest.startsWith('{') && !rest.startsWith(' ')) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('operations endpoints', () => {
  it('reports health, readiness and Prometheus metrics of traffic', async () => {
    const server = await startServer();
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
    const ready = await get(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, draining: false, connections: 0 });

    const subs = await Promise.all([client(server, 'a'), client(server, 'b'), client(server, 'c')]);
    const got: ReceivedPublication[] = [];
    await Promise.all(subs.map((c) => c.subscribe('chat:m', { onPublication: (p) => got.push(p) }).ready));
    await subs[0]?.publish('chat:m', 'from a client');
    await server.publish('chat:m', 'from the server');
    await waitFor(
      () => got.length === 6,
      5_000,
      () => `wanted 6 deliveries, saw ${describeValue(got.map((p) => p.data))}`,
    );

    const m = await get(`${server.url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.type).toContain('text/plain');
    expect(metric(m.body, 'syncline_connections')).toBe(3);
    expect(metric(m.body, 'syncline_subscriptions')).toBe(3);
    expect(metric(m.body, 'syncline_channels')).toBe(1);
    expect(metric(m.body, 'syncline_publications_in_total', 'source="client"')).toBe(1);
    expect(metric(m.body, 'syncline_publications_in_total', 'source="server"')).toBe(1);
    expect(metric(m.body, 'syncline_publications_out_total')).toBe(2);
    expect(metric(m.body, 'syncline_deliveries_total')).toBe(6);
    expect(metric(m.body, 'syncline_broker_duration_seconds_count', 'op="publish"')).toBe(2);
    expect(m.body).toContain('syncline_send_queue_drops_total');
    expect(m.body).toContain('syncline_mutation_duration_seconds');
    expect(m.body).toContain('syncline_process_resident_memory_bytes');
  });

  it('measures document mutations', async () => {
    const server = await startServer({ docs: { todo: testDocNamespace() } });
    const c = await client(server, 'alice');
    const r = c.doc('todo:m', { mutators: testMutators });
    await r.ready;
    await r.mutate.increment({});
    await r.mutate.increment({ by: 2 });
    const m = await get(`${server.url}/metrics`);
    expect(metric(m.body, 'syncline_mutation_duration_seconds_count', 'outcome="ok"')).toBe(2);
  });

  it('refuses connections over maxConnections with TOO_MANY_CONNECTIONS and a retry hint, and is not ready', async () => {
    const server = await startServer({ maxConnections: 2 });
    const a = await client(server, 'a');
    const b = await client(server, 'b');
    await Promise.all([waitState(a, 'connected'), waitState(b, 'connected')]);
    expect((await get(`${server.url}/readyz`)).status).toBe(503);
    const raw = await rawSocket(server);
    const msg = await raw.next((m) => m.type === 'disconnect');
    expect(msg.code).toBe(CLOSE_CODES.TOO_MANY_CONNECTIONS.code);
    expect(msg.reconnect).toBe(true);
    expect(msg.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect((await raw.waitClosed()).code).toBe(CLOSE_CODES.TOO_MANY_CONNECTIONS.code);
    const m = await get(`${server.url}/metrics`);
    expect(metric(m.body, 'syncline_connections_rejected_total', 'reason="limit"')).toBe(1);
    a.close();
    await waitForValue(() => server.connectionCount, 1, 5_000, 'connection count');
    expect((await get(`${server.url}/readyz`)).status).toBe(200);
  });

  it('drains: not ready, refuses new connections, closes every connection with SHUTDOWN within the window', async () => {
    const server = await startServer();
    const clients = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((u) => client(server, u, { autoConnect: true })));
    await Promise.all(clients.map((c) => waitState(c, 'connected')));
    // The first disconnect of each client (later reconnect attempts are refused while draining).
    const codes = new Map<number, number>();
    for (const [i, c] of clients.entries()) {
      c.on('state', (s) => {
        if (s.state === 'disconnected' && typeof s.code === 'number' && !codes.has(i)) codes.set(i, s.code);
      });
    }
    const started = Date.now();
    const drained = server.drain({ windowMs: 400 });
    expect(server.draining).toBe(true);
    const ready = await get(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: false, draining: true });
    // New WebSocket upgrades are refused with HTTP 503 (a load balancer retries another node).
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/connect/ws`, ['syncline.json']);
      ws.on('unexpected-response', (req, res) => {
        // The refused upgrade's socket may be reset once terminated: not an error of the test.
        req.on('error', () => undefined);
        res.on('error', () => undefined);
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => reject(new Error('upgrade accepted while draining')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(503);
    await drained;
    expect(Date.now() - started).toBeLessThan(5_000);
    await waitForAtLeast(() => codes.size, clients.length, 5_000, 'clients told to reconnect');
    expect([...codes.values()].every((c) => c === CLOSE_CODES.SHUTDOWN.code)).toBe(true);
  });
});
