import { MIN_PROTOCOL_VERSION, PROTOCOL_CHANGELOG, PROTOCOL_VERSION, type SynclineError } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { client, describeValue, rawSocket, startServer, token, waitFor, waitForValue, waitState } from './helpers.js';

describe('wire protocol versions', () => {
  it('has a changelog entry for every version up to the current one', () => {
    expect(PROTOCOL_VERSION).toBe(3);
    expect(MIN_PROTOCOL_VERSION).toBe(1);
    expect(PROTOCOL_CHANGELOG.map((c) => c.version)).toEqual([1, 2, 3]);
  });

  it('serves a protocol 1 client and a protocol 2 client on one server; only v2 gets update pushes', async () => {
    const server = await startServer({ app: { version: '1.0.0' } });
    const v2 = await client(server, 'alice', { app: { version: '1.0.0' } });
    await waitState(v2, 'connected');
    expect(v2.info?.protocol).toBe(3);
    expect(v2.info?.features).toContain('app-update');
    expect(v2.info?.update).toEqual({ status: 'none', version: '1.0.0' });

    const v1 = await rawSocket(server);
    v1.send(
      JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: await token('bob'), app: { version: '1.0.0' } }),
    );
    const reply = await v1.next((m) => m.id === 1);
    expect(reply.type).toBe('reply');
    const result = reply.result as Record<string, unknown>;
    expect(result.protocol).toBe(1);
    expect(result.features).toEqual([]);
    expect(result).not.toHaveProperty('update');

    // Both speak channels with each other.
    v1.send(JSON.stringify({ type: 'subscribe', id: 2, channel: 'chat:mixed' }));
    await v1.next((m) => m.id === 2 && m.type === 'reply');
    const sub = v2.subscribe('chat:mixed');
    const got: unknown[] = [];
    sub.on('publication', (p) => got.push(p.data));
    await waitForValue(() => sub.state, 'subscribed', 5_000, 'subscription state');
    v1.send(JSON.stringify({ type: 'publish', id: 3, channel: 'chat:mixed', data: { from: 'v1' } }));
    await v2.publish('chat:mixed', { from: 'v2' });
    await waitFor(
      () => got.length === 2,
      5_000,
      () => `wanted both publications at the v2 client, saw ${describeValue(got)}`,
    );
    await v1.next((m) => m.type === 'pub' && (m.data as { from: string }).from === 'v2');

    // A version announce reaches the v2 session as a push and the v1 session not at all.
    const updates: string[] = [];
    v2.on('update', (u) => updates.push(u.status));
    const announced = await server.setAppVersion({ version: '1.1.0', recommendedClientVersion: '1.1.0' });
    expect(announced.notified).toBe(1);
    expect(announced.sessions).toEqual({ none: 0, available: 2, required: 0 });
    await waitFor(
      () => updates.length === 1,
      5_000,
      () => `wanted 1 update, saw ${describeValue(updates)}`,
    );
    expect(v2.update.status).toBe('available');
    // Anything sent after the announce arrives after its push would have: the v1 socket saw none.
    await v2.publish('chat:mixed', { from: 'after' });
    await v1.next((m) => m.type === 'pub' && (m.data as { from: string }).from === 'after');
    expect(v1.messages.some((m) => m.type === 'update')).toBe(false);
  });

  it('answers a newer client that can fall back with its own newest version and features', async () => {
    const server = await startServer();
    const raw = await rawSocket(server);
    raw.send(JSON.stringify({ type: 'connect', id: 1, protocol: 4, minProtocol: 1, token: await token('carol') }));
    const reply = await raw.next((m) => m.id === 1);
    expect(reply.type).toBe('reply');
    expect((reply.result as { protocol: number }).protocol).toBe(3);
    expect((reply.result as { features: string[] }).features).toEqual(['app-update', 'presence-parts', 'status']);
    expect((reply.result as { update: unknown }).update).toEqual({ status: 'none' });
  });

  it.each([
    ['a newer client without fallback', { protocol: 4 }, { min: 1, max: 3 }, {}],
    ['a client whose fallback is still too new', { protocol: 5, minProtocol: 4 }, { min: 1, max: 3 }, {}],
    ['protocol 0', { protocol: 0 }, { min: 1, max: 3 }, {}],
    ['v1 on a node pinned to 2..2', { protocol: 1 }, { min: 2, max: 2 }, { protocolRange: { min: 2, max: 2 } }],
  ])('refuses %s with unsupported_protocol and the supported range', async (_name, hello, range, opts) => {
    const server = await startServer(opts);
    const raw = await rawSocket(server);
    raw.send(JSON.stringify({ type: 'connect', id: 1, token: await token('dave'), ...hello }));
    const err = await raw.next((m) => m.id === 1);
    expect(err).toMatchObject({ type: 'error', code: 'unsupported_protocol', details: range });
    expect((await raw.waitClosed()).code).toBe(4005);
  });

  it('an SDK client negotiates down to a node that speaks only protocol 1', async () => {
    const server = await startServer({
      protocolRange: { min: 1, max: 1 },
      app: { version: '2.0.0', minClientVersion: '2.0.0' },
    });
    const c = await client(server, 'erin', { app: { version: '1.0.0' } });
    await waitState(c, 'connected');
    expect(c.info?.protocol).toBe(1);
    expect(c.info?.features).toEqual([]);
    // Protocol 1 has no update field: the client cannot know; the server still refuses its writes.
    expect(c.update.status).toBe('none');
    const err = await c.publish('chat:x', 1).catch((e: SynclineError) => e);
    expect((err as SynclineError).code).toBe('client_outdated');
  });

  it('rejects a malformed protocolRange at startup', async () => {
    await expect(startServer({ protocolRange: { min: 1, max: 4 } })).rejects.toThrow(/protocolRange/);
    await expect(startServer({ protocolRange: { min: 2, max: 1 } })).rejects.toThrow(/protocolRange/);
  });
});

describe('presence lists by protocol version', () => {
  it('a protocol 2 session gets a large member list in one message, a protocol 3 session in parts', async () => {
    const server = await startServer({ namespaces: { room: { presence: true } } });
    // 25 members of ~1.8 KB: more than one 32 KiB part.
    const members = await Promise.all(Array.from({ length: 25 }, (_, i) => client(server, `m${i}`)));
    await Promise.all(members.map((m, i) => m.presence('room:big').enter({ pad: 'x'.repeat(1_800), i })));
    const states: Record<number, Array<Record<string, unknown>>> = {};
    for (const protocol of [2, 3]) {
      const raw = await rawSocket(server);
      raw.send(JSON.stringify({ type: 'connect', id: 1, protocol, token: await token(`w${protocol}`) }));
      await raw.next((m) => m.id === 1);
      raw.send(JSON.stringify({ type: 'presence.subscribe', id: 2, channel: 'room:big' }));
      await raw.next((m) => m.id === 2);
      await waitFor(
        () => raw.messages.some((m) => m.type === 'presence.state' && m.more !== true),
        5_000,
        () =>
          `wanted the last presence.state for protocol ${protocol}, saw ${describeValue(
            raw.messages.map((m) => (m.type === 'presence.state' ? `${m.type} more=${m.more}` : m.type)),
          )}`,
      );
      states[protocol] = raw.messages.filter((m) => m.type === 'presence.state');
    }
    const count = (list: Array<Record<string, unknown>> = []) =>
      list.reduce((n, m) => n + (m.entries as unknown[]).length, 0);
    expect(states[2]?.map((m) => [m.part, m.more])).toEqual([[undefined, undefined]]);
    expect(count(states[2])).toBe(25);
    expect(states[3]?.map((m) => m.part)).toEqual([0, 1]);
    expect(count(states[3])).toBe(25);
  });
});
