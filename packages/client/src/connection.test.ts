import {
  CLOSE_CODES,
  CODEC_NAMES,
  CODECS,
  type CodecName,
  type ServerMessage,
  type SynclineError,
} from '@syncline/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientEvents, ClientOptions } from './client-options.js';
import { Connection } from './connection.js';
import { Emitter } from './emitter.js';
import { RequestManager } from './request-manager.js';
import type { StateChange } from './states.js';
import { FakeServer } from './testing/fake-server.js';
import { TokenKeeper } from './token-refresh.js';

/**
 * A connection wired to a fake server, with every transition and host call
 * recorded. It starts with `initialToken` unless `options.token` is set
 * (`null`: no token, `getToken` must supply one).
 */
function harness(options: Partial<ClientOptions> = {}, initialToken: string | null = 'token-1') {
  const codec = options.codec ?? codecName;
  const server = new FakeServer(CODECS[codec]);
  const events = new Emitter<ClientEvents>();
  const changes: StateChange[] = [];
  const errors: SynclineError[] = [];
  const host: string[] = [];
  const messages: ServerMessage[] = [];
  events.on('state', (c) => changes.push(c));
  events.on('error', (e) => errors.push(e));
  let connection: Connection | undefined;
  const requests = new RequestManager({
    get connected() {
      return connection?.state === 'connected';
    },
    get refusal() {
      return connection?.refusal;
    },
    send: (cmd) => connection?.send(cmd),
    defaultTimeoutMs: 10_000,
    onErrorReply: () => undefined,
  });
  const tokens = new TokenKeeper(options.token ?? initialToken ?? undefined, options.getToken, {
    get connected() {
      return connection?.state === 'connected';
    },
    request: (cmd) => requests.request(cmd),
    emitError: (e) => errors.push(e),
  });
  connection = new Connection(
    {
      url: 'http://fake',
      transport: server.transport,
      reconnect: { minDelayMs: 100, maxDelayMs: 1_000 },
      ...options,
      codec,
    },
    events,
    tokens,
    {
      allocateId: () => requests.allocateId(),
      onMessage: (m) => {
        if ((m.type !== 'reply' && m.type !== 'error') || !requests.settle(m)) messages.push(m);
      },
      onAccepted: () => {
        host.push('accepted');
        requests.sendUnsent();
      },
      onLost: () => {
        host.push('lost');
        requests.connectionLost();
      },
      onClosing: () => host.push('closing'),
      onRefused: (err) => {
        host.push(`refused ${err.code}`);
        requests.rejectAll(err);
      },
    },
  );
  /** Transitions as `previous→state (reason)`, compact enough to compare whole. */
  const path = (): string[] =>
    changes.map((c) => `${c.previous}→${c.state} (${c.reason}${c.code === undefined ? '' : ` ${c.code}`})`);
  return { server, connection, changes, errors, host, messages, requests, path };
}

/** Lets promises and microtasks (transport open, outbox flush) run without moving timers. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** The codec of the suite being run: every test runs over each codec. */
let codecName: CodecName = 'json';

describe.each(CODEC_NAMES)('Connection state machine (fake server, %s)', (name) => {
  beforeEach(() => {
    codecName = name;
    vi.useFakeTimers();
    // Backoff draws half of its ceiling: attempt n waits 50, 100, 200 … ms with minDelayMs 100.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('connecting → connected, sending connect with the token and accepting the reply', async () => {
    const h = harness();
    h.connection.connect();
    const cmd = await h.server.accept({ session: 's-1', pingIntervalMs: 1_000 });
    expect(cmd).toMatchObject({ type: 'connect', token: 'token-1', client: { name: 'syncline-js' } });
    expect(h.path()).toEqual(['disconnected→connecting (connect_called)', 'connecting→connected (connected)']);
    expect(h.connection.info?.session).toBe('s-1');
    expect(h.connection.transportName).toBe('fake');
    expect(h.host).toEqual(['accepted']);
    expect(h.server.invalid).toEqual([]);
  });

  it('answers a server ping with pong, and hands other messages to the host', async () => {
    const h = harness();
    h.connection.connect();
    await h.server.accept();
    h.server.push([{ type: 'ping' }, { type: 'pub', channel: 'chat:a', offset: 1, ts: 1, data: 'x' }]);
    await h.server.expectCommand('pong');
    expect(h.messages).toEqual([{ type: 'pub', channel: 'chat:a', offset: 1, ts: 1, data: 'x' }]);
  });

  it('reconnects with growing backoff after drops, and resets the backoff once connected', async () => {
    const h = harness();
    h.connection.connect();
    await h.server.accept();
    h.server.drop();
    expect(h.connection.state).toBe('disconnected');
    expect(h.connection.lastChange).toMatchObject({ reason: 'transport_closed', code: 1006, retryInMs: 50 });
    expect(h.host).toEqual(['accepted', 'lost']);

    // The next attempt fails before its connect is answered: the delay doubles.
    await vi.advanceTimersByTimeAsync(49);
    expect(h.connection.state).toBe('disconnected');
    await vi.advanceTimersByTimeAsync(1);
    expect(h.connection.state).toBe('connecting');
    await h.server.expectCommand('connect');
    h.server.drop();
    expect(h.connection.lastChange).toMatchObject({ reason: 'transport_closed', retryInMs: 100 });

    await vi.advanceTimersByTimeAsync(100);
    await h.server.accept();
    h.server.drop();
    // Accepted: the attempt counter was reset.
    expect(h.connection.lastChange).toMatchObject({ retryInMs: 50 });
    expect(h.server.connectionCount).toBe(3);
    expect(h.path()).toEqual([
      'disconnected→connecting (connect_called)',
      'connecting→connected (connected)',
      'connected→disconnected (transport_closed 1006)',
      'disconnected→connecting (reconnect)',
      'connecting→disconnected (transport_closed 1006)',
      'disconnected→connecting (reconnect)',
      'connecting→connected (connected)',
      'connected→disconnected (transport_closed 1006)',
    ]);
  });

  it('a transport that cannot open is a transport_error, retried with backoff', async () => {
    const h = harness();
    h.server.refuseNextConnection(new Error('ECONNREFUSED'));
    h.connection.connect();
    await settle();
    expect(h.connection.lastChange).toMatchObject({ state: 'disconnected', reason: 'transport_error', retryInMs: 50 });
    expect(h.errors.map((e) => e.message)).toEqual(['ECONNREFUSED']);
    await vi.advanceTimersByTimeAsync(50);
    await h.server.accept();
    expect(h.connection.state).toBe('connected');
  });

  it('unauthorized close without getToken: disconnected for good, no reconnect timer', async () => {
    const h = harness();
    h.connection.connect();
    const cmd = await h.server.expectCommand('connect');
    h.server.replyError(cmd.id, 'unauthorized', 'bad token');
    h.server.drop(CLOSE_CODES.UNAUTHORIZED.code, 'unauthorized');
    expect(h.connection.lastChange).toEqual({
      state: 'disconnected',
      previous: 'connecting',
      reason: 'unauthorized',
      code: CLOSE_CODES.UNAUTHORIZED.code,
    });
    expect(h.errors.map((e) => e.code)).toEqual(['unauthorized']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.server.connectionCount).toBe(1);
    expect(h.connection.state).toBe('disconnected');
  });

  it('unauthorized close with getToken: fetches a new token and reconnects with it', async () => {
    let n = 1;
    const h = harness({ getToken: async () => `fresh-${n++}` });
    h.connection.connect();
    const first = await h.server.expectCommand('connect');
    h.server.replyError(first.id, 'unauthorized');
    h.server.drop(CLOSE_CODES.UNAUTHORIZED.code, 'unauthorized');
    expect(h.connection.lastChange).toMatchObject({ reason: 'unauthorized', retryInMs: 50 });
    await vi.advanceTimersByTimeAsync(50);
    const second = await h.server.accept();
    expect(second.token).toBe('fresh-1');
    expect(h.connection.state).toBe('connected');
  });

  it.each([
    ['unauthorized', CLOSE_CODES.UNAUTHORIZED.code],
    ['token_expired', CLOSE_CODES.TOKEN_EXPIRED.code],
    ['revoked', CLOSE_CODES.REVOKED.code],
  ] as const)(
    'a connect refused with %s and no getToken fails waiting and new requests at once with that code',
    async (code, closeCode) => {
      const h = harness();
      const waiting = h.requests.request({ type: 'publish', channel: 'chat:a', data: 1 }, { resend: true });
      const waitingOutcome = waiting.catch((e: SynclineError) => e.code);
      h.connection.connect();
      const cmd = await h.server.expectCommand('connect');
      h.server.replyError(cmd.id, code, 'refused');
      h.server.drop(closeCode, 'refused');
      expect(await waitingOutcome).toBe(code);
      expect(h.connection.refusal).toMatchObject({ code });
      expect(h.host).toEqual(['lost', `refused ${code}`]);
      await expect(h.requests.request({ type: 'history', channel: 'chat:a' })).rejects.toMatchObject({ code });
      // Nothing is left waiting, no timer either (no reconnect is planned without getToken).
      expect(vi.getTimerCount()).toBe(0);
    },
  );

  it('a token that expires while connected without getToken: later requests fail at once with token_expired', async () => {
    const h = harness();
    h.connection.connect();
    await h.server.accept();
    h.server.disconnect(CLOSE_CODES.TOKEN_EXPIRED.code, 'token expired', true);
    expect(h.connection.lastChange).toMatchObject({ reason: 'unauthorized', code: CLOSE_CODES.TOKEN_EXPIRED.code });
    await expect(h.requests.request({ type: 'publish', channel: 'chat:a', data: 1 })).rejects.toMatchObject({
      code: 'token_expired',
      message: 'token expired',
    });
  });

  it('a failing getToken fails requests at once with unauthorized until a connect is accepted', async () => {
    let fail = true;
    const h = harness(
      {
        getToken: async () => {
          if (fail) throw new Error('auth service down');
          return 'fresh';
        },
      },
      null,
    );
    const waiting = h.requests.request({ type: 'publish', channel: 'chat:a', data: 1 }).catch((e: SynclineError) => e);
    h.connection.connect();
    await settle();
    expect(h.connection.lastChange).toMatchObject({ reason: 'token_error', retryInMs: 50 });
    expect(await waiting).toMatchObject({ code: 'unauthorized', message: 'getToken failed.' });
    await expect(h.requests.request({ type: 'history', channel: 'chat:a' })).rejects.toMatchObject({
      code: 'unauthorized',
    });
    // getToken recovers: the next attempt is accepted and requests flow again.
    fail = false;
    await vi.advanceTimersByTimeAsync(50);
    await h.server.accept();
    expect(h.connection.refusal).toBeUndefined();
    const ok = h.requests.request({ type: 'history', channel: 'chat:a' });
    const cmd = await h.server.expectCommand('history');
    h.server.reply(cmd.id, { epoch: 'e', offset: 0, minOffset: 1, publications: [] });
    await expect(ok).resolves.toMatchObject({ offset: 0 });
  });

  it('a refused token with getToken is not a refusal: requests wait for the reconnect with the new token', async () => {
    const h = harness({ getToken: async () => 'fresh' });
    const waiting = h.requests.request({ type: 'publish', channel: 'chat:a', data: 1 }, { resend: true });
    h.connection.connect();
    const first = await h.server.expectCommand('connect');
    h.server.replyError(first.id, 'unauthorized');
    h.server.drop(CLOSE_CODES.UNAUTHORIZED.code, 'unauthorized');
    expect(h.connection.refusal).toBeUndefined();
    await vi.advanceTimersByTimeAsync(50);
    await h.server.accept();
    const pub = await h.server.expectCommand('publish');
    h.server.reply(pub.id, { offset: 1, epoch: 'e' });
    await expect(waiting).resolves.toEqual({ offset: 1, epoch: 'e' });
  });

  it('a server disconnect without reconnect ends in disconnected with its code and reason server_disconnect', async () => {
    const h = harness();
    h.connection.connect();
    await h.server.accept();
    h.server.disconnect(4_999, 'go away', false);
    expect(h.connection.lastChange).toEqual({
      state: 'disconnected',
      previous: 'connected',
      reason: 'server_disconnect',
      code: 4_999,
    });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.server.connectionCount).toBe(1);
  });

  it('a server disconnect with retryAfterMs waits at least that long', async () => {
    const h = harness();
    h.connection.connect();
    await h.server.accept();
    h.server.disconnect(4_503, 'draining', true, 700);
    expect(h.connection.lastChange).toMatchObject({ reason: 'server_disconnect', code: 4_503, retryInMs: 700 });
    await vi.advanceTimersByTimeAsync(699);
    expect(h.connection.state).toBe('disconnected');
    await vi.advanceTimersByTimeAsync(1);
    expect(h.connection.lastChange).toMatchObject({ state: 'connecting', reason: 'reconnect' });
  });

  it('server silence past two ping intervals and slack is a heartbeat_timeout', async () => {
    const h = harness();
    h.connection.connect();
    await h.server.accept({ pingIntervalMs: 1_000 });
    await vi.advanceTimersByTimeAsync(2 * 1_000 + 5_000 - 1);
    expect(h.connection.state).toBe('connected');
    await vi.advanceTimersByTimeAsync(1);
    expect(h.connection.lastChange).toMatchObject({ previous: 'connected', reason: 'heartbeat_timeout' });
    expect(h.server.closedByClient?.reason).toBe('heartbeat_timeout');
  });

  it('disconnect() closes the transport without a timer; close() is final', async () => {
    const h = harness();
    h.connection.connect();
    await h.server.accept();
    h.connection.disconnect();
    expect(h.server.closedByClient).toEqual({ code: CLOSE_CODES.NORMAL.code, reason: 'disconnect called' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.server.connectionCount).toBe(1);
    h.connection.connect();
    await h.server.accept();
    h.connection.close();
    h.connection.connect();
    expect(h.path().slice(-4)).toEqual([
      'connected→disconnected (client_closed)',
      'disconnected→connecting (connect_called)',
      'connecting→connected (connected)',
      'connected→closed (client_closed)',
    ]);
    expect(h.host).toEqual(['accepted', 'lost', 'accepted', 'closing']);
  });

  it('the unsupported protocol close code closes the client for good', async () => {
    const h = harness();
    h.connection.connect();
    await h.server.expectCommand('connect');
    h.server.drop(CLOSE_CODES.UNSUPPORTED_PROTOCOL.code, 'unsupported');
    expect(h.connection.state).toBe('closed');
  });

  it('a request made offline goes out after connect is accepted; one in flight fails with connection_lost', async () => {
    const h = harness();
    const early = h.requests.request({ type: 'publish', channel: 'chat:a', data: 1 });
    h.connection.connect();
    await h.server.accept();
    const pub = await h.server.expectCommand('publish');
    h.server.reply(pub.id, { offset: 1, epoch: 'e' });
    await expect(early).resolves.toEqual({ offset: 1, epoch: 'e' });

    const inFlight = h.requests.request({ type: 'publish', channel: 'chat:a', data: 2 });
    await h.server.expectCommand('publish');
    h.server.drop();
    await expect(inFlight).rejects.toMatchObject({ code: 'connection_lost' });
  });

  it('a frame that is not JSON is reported, and the connection stays up', async () => {
    const h = harness();
    h.connection.connect();
    await h.server.accept();
    h.server.pushRaw('{nope');
    expect(h.errors.map((e) => e.code)).toEqual(['bad_frame']);
    expect(h.connection.state).toBe('connected');
  });

  it('reports a message without a type, ignores one of a type it does not know, and handles the rest', async () => {
    const h = harness();
    h.connection.connect();
    await h.server.accept();
    h.server.pushRaw(h.server.codec.encode([null, { type: 'from.a.newer.server', x: 1 }, { type: 'ping' }, 7]));
    await h.server.expectCommand('pong');
    expect(h.errors.map((e) => e.code)).toEqual(['bad_frame', 'bad_frame']);
    expect(h.messages).toEqual([]);
    expect(h.connection.state).toBe('connected');
  });
});
