import type {
  DocMutateResult,
  DocSubscribeResult,
  EmptyResult,
  HistoryResult,
  PresenceEnterResult,
  PublishResult,
  RefreshResult,
  ResultOf,
  ServerMessage,
  SubscribeResult,
} from '@syncline/protocol';
import { describe, expectTypeOf, it } from 'vitest';
import type { ClientEvents, MessageHandler, SynclineClient } from './client.js';
import { RequestManager } from './request-manager.js';

// Type-level checks: the compiler checks them (`npm run typecheck:tests`, tsconfig.test.json; the package
// build leaves test files out). At run time the requests only wait (never connected, no timeout): nothing is
// sent and no timer is left behind.

/** A request manager that never connects: its requests wait for good. */
function idleRequests(): RequestManager {
  return new RequestManager({
    connected: false,
    send: () => undefined,
    defaultTimeoutMs: 0,
    onErrorReply: () => undefined,
  });
}

describe('request types', () => {
  it('resolves each command to the result of its reply', () => {
    const r = idleRequests();
    expectTypeOf(r.request({ type: 'publish', channel: 'chat:a', data: 1 })).resolves.toEqualTypeOf<PublishResult>();
    expectTypeOf(r.request({ type: 'subscribe', channel: 'chat:a' })).resolves.toEqualTypeOf<SubscribeResult>();
    expectTypeOf(r.request({ type: 'history', channel: 'chat:a', limit: 10 })).resolves.toEqualTypeOf<HistoryResult>();
    expectTypeOf(r.request({ type: 'refresh', token: 't' })).resolves.toEqualTypeOf<RefreshResult>();
    expectTypeOf(r.request({ type: 'unsubscribe', channel: 'chat:a' })).resolves.toEqualTypeOf<EmptyResult>();
    expectTypeOf(r.request({ type: 'doc.subscribe', doc: 'todo:1' })).resolves.toEqualTypeOf<DocSubscribeResult>();
    expectTypeOf(
      r.request({ type: 'doc.mutate', doc: 'todo:1', clientId: 'client-1', mutationId: 1, name: 'add', args: null }),
    ).resolves.toEqualTypeOf<DocMutateResult>();
    expectTypeOf(
      r.request({ type: 'presence.enter', channel: 'room:a', clientId: 'c1', state: { x: 1 } }),
    ).resolves.toEqualTypeOf<PresenceEnterResult>();
    expectTypeOf<ResultOf<'presence.leave'>>().toEqualTypeOf<EmptyResult>();
  });

  it('refuses a command that is not a request or does not match its schema', () => {
    const r = idleRequests();
    // @ts-expect-error: the request layer adds the id
    void r.request({ type: 'publish', id: 1, channel: 'chat:a', data: 1 });
    // @ts-expect-error: `channel` is required
    void r.request({ type: 'publish', data: 1 });
    // @ts-expect-error: `ping` gets no reply
    void r.request({ type: 'ping' });
    // @ts-expect-error: no such field on `subscribe`
    void r.request({ type: 'subscribe', channel: 'chat:a', doc: 'todo:1' });
  });

  it('types the client the way the request manager is typed', () => {
    expectTypeOf<SynclineClient['request']>().toEqualTypeOf<RequestManager['request']>();
  });

  it('hands handlers and the message event a ServerMessage, and knows its event names', () => {
    expectTypeOf<Parameters<MessageHandler>[0]>().toEqualTypeOf<ServerMessage>();
    expectTypeOf<ClientEvents['message']>().toEqualTypeOf<ServerMessage>();
    // @ts-expect-error: not an event of the client
    const misspelt: keyof ClientEvents = 'conected';
    expectTypeOf(misspelt).toBeString();
  });
});
