// @vitest-environment happy-dom

import { get } from 'node:http';
import type { NodeStatus, SynclineClient, SynclineError } from '@syncline/client';
import type { CommandInput } from '@syncline/protocol';
import { SynclineProvider, useDegraded } from '@syncline/react';
import {
  type Broker,
  HealthSignal,
  LocalBroker,
  openDatabase,
  SqliteHistory,
  type SynclineServer,
} from '@syncline/server';
import { act, cleanup, render, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { client, connectedRawSocket, defer, startServer, waitFor } from './helpers.js';

afterEach(() => cleanup());

/** A working in-process broker whose reported health the test switches. */
function switchableBroker(): { broker: Broker; signal: HealthSignal } {
  const db = openDatabase(':memory:');
  const inner: Broker = new LocalBroker(new SqliteHistory(db));
  defer(() => db.close());
  const signal = new HealthSignal();
  const broker: Broker = {
    publish: (input) => inner.publish(input),
    subscribe: (channel, listener, onEpoch) => inner.subscribe(channel, listener, onEpoch),
    unsubscribe: (channel) => inner.unsubscribe(channel),
    history: (channel, options) => inner.history(channel, options),
    historyBefore: (channel, options) => inner.historyBefore(channel, options),
    top: (channel) => inner.top(channel),
    close: () => inner.close(),
    health: () => signal.health(),
    onHealth: (listener) => signal.onHealth(listener),
  };
  return { broker, signal };
}

/** GET /readyz with Node's HTTP client (the DOM environment's fetch applies CORS). */
function readyz(server: SynclineServer): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    get(`${server.url}/readyz`, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    }).on('error', reject);
  });
}

/** Records the type of every command the server refused with `unavailable`. */
function countRefusals(c: SynclineClient): string[] {
  const refused: string[] = [];
  const request = c.request.bind(c);
  c.request = (command, options) => {
    const p = request(command, options);
    p.catch((e: SynclineError) => {
      if (e.code === 'unavailable') refused.push(String(command.type));
    });
    return p;
  };
  return refused;
}

function Degraded(): ReactNode {
  const s = useDegraded();
  return <p data-testid="degraded">{s.degraded ? `degraded:${s.reason}` : 'ok'}</p>;
}

describe('backend health on one node', () => {
  it('a broker reported down: readyz 503, broker commands refused at once, protocol 3 clients told, protocol 1 not', async () => {
    const { broker, signal } = switchableBroker();
    const server = await startServer({ broker });
    const c = await client(server, 'alice');
    const log: NodeStatus[] = [];
    c.on('degraded', (s) => log.push(s));
    render(
      <SynclineProvider client={c}>
        <Degraded />
      </SynclineProvider>,
    );
    await waitFor(() => c.state === 'connected', 5_000, 'connected');
    const v1 = await connectedRawSocket(server, 'old');
    expect(await readyz(server)).toMatchObject({ status: 200, body: { ready: true, broker: 'up', docs: 'up' } });

    act(() => signal.set(false, 'test says so'));
    expect(await readyz(server)).toMatchObject({ status: 503, body: { ready: false, broker: 'down', docs: 'up' } });
    await waitFor(() => c.degraded, 2_000, 'client degraded');
    await waitFor(() => screen.getByTestId('degraded').textContent === 'degraded:broker', 2_000, 'hook re-rendered');
    const commands: CommandInput<'subscribe' | 'history' | 'presence.subscribe'>[] = [
      { type: 'subscribe', channel: 'chat:x' },
      { type: 'history', channel: 'chat:x' },
      { type: 'presence.subscribe', channel: 'chat:x' },
    ];
    for (const command of commands) {
      const err = (await c.request(command).catch((e: unknown) => e)) as SynclineError;
      expect(err).toMatchObject({ code: 'unavailable', message: 'The message broker is unavailable; retry shortly.' });
      expect(err.retryAfterMs).toBeGreaterThan(0);
    }
    // A client connecting now learns it from the connect reply.
    const late = await client(server, 'bob');
    await waitFor(() => late.state === 'connected', 5_000, 'late client connected');
    expect(late.serverStatus).toEqual({ degraded: true, reason: 'broker', down: ['broker'] });
    expect(late.info?.features).toContain('status');

    act(() => signal.set(true));
    expect((await readyz(server)).status).toBe(200);
    await waitFor(() => !c.degraded && !late.degraded, 2_000, 'clients healthy again');
    await waitFor(() => screen.getByTestId('degraded').textContent === 'ok', 2_000, 'hook back to ok');
    expect(log).toEqual([
      { degraded: true, reason: 'broker', down: ['broker'] },
      { degraded: false, down: [] },
    ]);
    // The protocol 1 session got no `status` push.
    await v1.next((m) => m.type === 'pong' || m.type === 'ping', 200).catch(() => undefined);
    expect(v1.messages.filter((m) => m.type === 'status')).toEqual([]);
  });

  it('the SDK retries a subscription and a presence watch refused while the broker is down', async () => {
    const { broker, signal } = switchableBroker();
    const server = await startServer({ broker, namespaces: { chat: { presence: true } } });
    signal.set(false, 'down from the start');
    const c = await client(server, 'alice');
    const refused = countRefusals(c);
    await waitFor(() => c.state === 'connected' && c.degraded, 5_000, 'connected to a degraded node');
    const sub = c.subscribe('chat:later');
    const states: string[] = [];
    sub.on('state', (e) => states.push(e.state));
    const presence = c.presence('chat:later');
    const presenceErrors: string[] = [];
    presence.on('error', (e) => presenceErrors.push(e.code));
    const entered = presence.enter({ here: true });
    await waitFor(
      () =>
        refused.includes('subscribe') && refused.includes('presence.subscribe') && refused.includes('presence.enter'),
      5_000,
      `subscribe, watch and entry refused once (refused: ${refused})`,
    );
    expect(sub.state).toBe('subscribing');
    signal.set(true);
    await waitFor(() => sub.state === 'subscribed', 10_000, `subscribed after the broker came back (${states})`);
    await entered;
    await waitFor(
      () => presence.members.current.some((m) => m.user === 'alice'),
      10_000,
      `presence watched again (errors ${presenceErrors})`,
    );
    expect(states).not.toContain('unsubscribed');
    expect(presenceErrors).toEqual([]);
  });
});
