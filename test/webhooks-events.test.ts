import type { DocReplica } from '@syncline/client';
import { signWebhookBody, verifyWebhookSignature, WEBHOOK_EVENT_TYPES, type WebhookEvent } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, startServer, TEST_NAMESPACES, waitFor, waitState } from './helpers.js';
import { startReceiver } from './webhooks-receiver.js';

const SECRET_A = 'receiver-a-secret-0123456789abcdef';
const SECRET_B = 'receiver-b-secret-0123456789abcdef';
const FAST = { retryBaseMs: 50, retryMaxMs: 200, pollIntervalMs: 50 };

function byType(events: readonly WebhookEvent[], type: string): WebhookEvent[] {
  return events.filter((e) => e.type === type);
}

describe('webhook events', () => {
  it('delivers each event type with its documented payload, signed, filtered by events and namespaces', async () => {
    const all = await startReceiver();
    const pubs = await startReceiver();
    const other = await startReceiver();
    const server = await startServer({
      namespaces: { ...TEST_NAMESPACES, room: { presence: true } },
      docs: { todo: testDocNamespace() },
      presence: { graceMs: 0 },
      webhookDelivery: FAST,
      webhooks: [
        {
          url: all.url,
          secret: SECRET_A,
          events: WEBHOOK_EVENT_TYPES.filter((t) => t !== 'publication'),
        },
        { url: pubs.url, secret: SECRET_B, events: ['publication'], namespaces: ['chat'] },
        { url: other.url, secret: SECRET_B, events: ['presence.joined', 'channel.occupied'], namespaces: ['other'] },
      ],
    });

    const c = await client(server, 'alice');
    await waitState(c, 'connected');
    const sub = c.subscribe('chat:a');
    await sub.ready;
    const pub = await c.publish('chat:a', { text: 'hi' });
    await c.publish('small:x', { text: 'not for the receiver' });
    const presence = c.presence('room:lobby');
    await presence.enter({ status: 'here' });
    await presence.leave();
    const replica = c.doc('todo:a', { mutators: testMutators }) as DocReplica<TestState, typeof testMutators>;
    for (let i = 0; i < 5; i++) void replica.mutate.increment({});
    await waitFor(() => replica.pendingCount === 0, 5_000, 'the mutation to be acknowledged');
    sub.unsubscribe();
    await waitFor(
      () => byType(all.unique(), 'channel.vacated').length === 1,
      5_000,
      () => JSON.stringify(all.unique().map((e) => e.type)),
    );
    c.close();

    const want = [
      'user.connected',
      'channel.occupied',
      'presence.joined',
      'presence.left',
      'doc.committed',
      'channel.vacated',
      'user.disconnected',
    ];
    await waitFor(
      () =>
        want.every((t) => byType(all.unique(), t).length > 0) &&
        byType(all.unique(), 'doc.committed').length === 5 &&
        pubs.unique().length >= 1,
      10_000,
      () => `all got ${JSON.stringify(all.unique().map((e) => e.type))}, pubs got ${pubs.unique().length}`,
    );
    const events = all.unique();
    const connectionId = byType(events, 'user.connected')[0]?.data.connectionId;
    expect(typeof connectionId).toBe('string');
    expect(byType(events, 'user.connected')[0]?.data).toEqual({ user: 'alice', connectionId });
    expect(byType(events, 'user.disconnected')[0]?.data).toMatchObject({ user: 'alice', connectionId });
    expect(byType(events, 'channel.occupied').map((e) => e.data)).toEqual([{ channel: 'chat:a' }]);
    expect(byType(events, 'channel.vacated').map((e) => e.data)).toEqual([{ channel: 'chat:a' }]);
    const joined = byType(events, 'presence.joined')[0]?.data;
    expect(joined).toMatchObject({ channel: 'room:lobby', user: 'alice' });
    expect(typeof joined?.clientId).toBe('string');
    expect(byType(events, 'presence.left')[0]?.data).toEqual(joined);
    expect(byType(events, 'doc.committed')[0]?.data).toMatchObject({ doc: 'todo:a', version: 1, user: 'alice' });
    // In commit order.
    expect(byType(events, 'doc.committed').map((e) => e.data.version)).toEqual([1, 2, 3, 4, 5]);
    // Only the listed types: no publication for the first receiver.
    expect(events.every((e) => want.includes(e.type))).toBe(true);
    for (const e of events) {
      expect(e.id).toMatch(/^evt_/);
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    }

    // Publications: only for the namespaces listed, with channel, offset, user and data.
    expect(pubs.unique().map((e) => [e.type, e.data])).toEqual([
      [
        'publication',
        { channel: 'chat:a', offset: pub.offset, epoch: expect.any(String), user: 'alice', data: { text: 'hi' } },
      ],
    ]);
    // The third receiver lists another namespace: it gets nothing from these channels.
    expect(other.requests).toEqual([]);

    // Every request is signed; the helper rejects a tampered body, a wrong secret and an old timestamp.
    for (const [receiver, secret] of [
      [all, SECRET_A],
      [pubs, SECRET_B],
    ] as const) {
      for (const r of receiver.requests) {
        expect(r.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
        expect(verifyWebhookSignature({ body: r.body, header: r.signature, secret })).toBe(true);
        expect(verifyWebhookSignature({ body: `${r.body} `, header: r.signature, secret })).toBe(false);
        expect(verifyWebhookSignature({ body: r.body, header: r.signature, secret: `${secret}x` })).toBe(false);
        expect(verifyWebhookSignature({ body: r.body, header: r.signature, secret, now: Date.now() + 600_000 })).toBe(
          false,
        );
      }
    }
    const old = signWebhookBody(SECRET_A, '{}', Math.floor(Date.now() / 1000) - 301);
    expect(verifyWebhookSignature({ body: '{}', header: old, secret: SECRET_A })).toBe(false);
    expect(verifyWebhookSignature({ body: '{}', header: old, secret: SECRET_A, toleranceS: 400 })).toBe(true);
    expect(verifyWebhookSignature({ body: '{}', header: undefined, secret: SECRET_A })).toBe(false);
    expect(verifyWebhookSignature({ body: '{}', header: 't=1,v1=zz', secret: SECRET_A })).toBe(false);
  });
});
