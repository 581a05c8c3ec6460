import {
  CLOSE_CODES,
  CODECS,
  encodeBase64Url,
  HANDSHAKE_COMMAND_PREFIX,
  MAX_HANDSHAKE_CONNECT_CHARS,
  PROTOCOL_VERSION,
} from '@syncline/protocol';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defer, type RawSocket, rawSocket, startServer, token, waitFor } from './helpers.js';

/** A raw socket offering the handshake connect's subprotocols with the given `syncline.c.` entries. */
function offer(server: SynclineServer, entries: string[]): Promise<RawSocket> {
  return rawSocket(server, ['syncline.json.connect', 'syncline.json', ...entries]);
}

/** The `syncline.c.` entry carrying `value` as JSON. */
function carrying(value: unknown): string {
  return `${HANDSHAKE_COMMAND_PREFIX}${encodeBase64Url(JSON.stringify(value))}`;
}

/** Offers `entries`, waits for the close; returns the error and the close. */
async function refused(server: SynclineServer, entries: string[]) {
  const raw = await offer(server, entries);
  expect(raw.ws.protocol).toBe('syncline.json.connect');
  const close = await raw.waitClosed(5_000);
  return { error: raw.messages.find((m) => m.type === 'error'), close };
}

describe('handshake connect limits', () => {
  it(`refuses an entry over ${MAX_HANDSHAKE_CONNECT_CHARS} characters with frame_too_large, unread`, async () => {
    const server = await startServer();
    const { error, close } = await refused(server, [
      `${HANDSHAKE_COMMAND_PREFIX}${'A'.repeat(MAX_HANDSHAKE_CONNECT_CHARS + 1)}`,
    ]);
    expect(error).toMatchObject({ code: 'frame_too_large', details: { limit: MAX_HANDSHAKE_CONNECT_CHARS } });
    expect(close?.code).toBe(CLOSE_CODES.PROTOCOL_ERROR.code);
    expect(server.core.sessions.size).toBe(0);
  });

  it('refuses malformed base64url, JSON that is not an object, and several entries with bad_frame', async () => {
    const server = await startServer();
    const t = await token('alice');
    const cases: Array<{ entries: string[]; message: string }> = [
      { entries: [`${HANDSHAKE_COMMAND_PREFIX}abc.def`], message: 'The handshake connect is not base64url.' },
      { entries: [`${HANDSHAKE_COMMAND_PREFIX}abcde`], message: 'The handshake connect is not base64url.' },
      {
        entries: [`${HANDSHAKE_COMMAND_PREFIX}${encodeBase64Url('{"type":')}`],
        message: 'The handshake connect is not valid JSON.',
      },
      { entries: [carrying([{ type: 'connect' }])], message: 'The handshake connect is not a JSON object.' },
      { entries: [carrying('connect')], message: 'The handshake connect is not a JSON object.' },
      {
        entries: [
          carrying({ type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token: t }),
          carrying({ type: 'connect', id: 2, protocol: PROTOCOL_VERSION, token: t }),
        ],
        message: 'The handshake may carry one connect only.',
      },
    ];
    for (const c of cases) {
      const { error, close } = await refused(server, c.entries);
      expect(error, c.message).toMatchObject({ type: 'error', code: 'bad_frame', message: c.message });
      expect(close?.code, c.message).toBe(CLOSE_CODES.PROTOCOL_ERROR.code);
    }
    await waitFor(() => server.core.sessions.size === 0, 5_000, 'sessions gone');
  });

  it('answers a bad token, an invalid command and another command like a connect frame', async () => {
    const server = await startServer();
    const bad = await refused(server, [
      carrying({ type: 'connect', id: 3, protocol: PROTOCOL_VERSION, token: 'x.y.z' }),
    ]);
    expect(bad.error).toMatchObject({ id: 3, code: 'unauthorized' });
    expect(bad.close?.code).toBe(CLOSE_CODES.UNAUTHORIZED.code);

    const invalid = await refused(server, [carrying({ type: 'connect', id: 4, protocol: 'one' })]);
    expect(invalid.error).toMatchObject({ id: 4, code: 'invalid_command' });
    expect(invalid.close?.code).toBe(CLOSE_CODES.PROTOCOL_ERROR.code);

    const other = await refused(server, [carrying({ type: 'subscribe', id: 5, channel: 'chat:x' })]);
    expect(other.error).toMatchObject({ id: 5, code: 'not_connected' });
    expect(other.close?.code).toBe(CLOSE_CODES.PROTOCOL_ERROR.code);
  });

  it('counts a handshake connect against maxFrameBytes like a frame', async () => {
    const server = await startServer({ maxFrameBytes: 1024 });
    const t = await token('alice');
    const { error } = await refused(server, [
      carrying({ type: 'connect', id: 6, protocol: PROTOCOL_VERSION, token: t, data: 'x'.repeat(2000) }),
    ]);
    expect(error).toMatchObject({ id: 6, code: 'frame_too_large', details: { limit: 1024 } });
  });

  it('keeps the per-user connection limit', async () => {
    const server = await startServer({ limits: { maxConnectionsPerUser: 1 } });
    const cmd = { type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token: await token('alice') };
    const first = await offer(server, [carrying(cmd)]);
    await waitFor(() => first.messages.length > 0, 5_000, 'first reply');
    expect(first.messages[0]).toMatchObject({ type: 'reply', id: 1 });
    const second = await refused(server, [carrying(cmd)]);
    expect(second.error).toMatchObject({ id: 1, code: 'too_many_connections' });
    expect(second.close?.code).toBe(CLOSE_CODES.TOO_MANY_CONNECTIONS.code);
  });

  it('a msgpack client gets its errors in MessagePack', async () => {
    const server = await startServer();
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/connect/ws`, [
      'syncline.msgpack.connect',
      'syncline.msgpack',
      `${HANDSHAKE_COMMAND_PREFIX}!!`,
    ]);
    defer(() => ws.terminate());
    const got: unknown[] = [];
    ws.on('message', (data: Buffer) => {
      const v = CODECS.msgpack.decode(new Uint8Array(data));
      got.push(...(Array.isArray(v) ? v : [v]));
    });
    ws.on('error', () => undefined);
    await waitFor(() => got.length > 0, 5_000, 'error');
    expect(ws.protocol).toBe('syncline.msgpack.connect');
    expect(got[0]).toMatchObject({ type: 'error', code: 'bad_frame' });
  });
});
