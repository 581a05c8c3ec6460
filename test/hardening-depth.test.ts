import type { ReceivedPublication } from '@syncline/client';
import { MAX_JSON_DEPTH } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { client, connectedRawSocket, startServer, waitForValue } from './helpers.js';
import { API_KEY, api } from './http-api-helpers.js';
import { captureLog } from './log-capture.js';

/** `[[[…1…]]]`: arrays nested `depth` levels, as JSON text. */
function deepText(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

async function setup() {
  const log = captureLog();
  const server = await startServer({
    logger: log.logger,
    apiKey: API_KEY,
    namespaces: { chat: { history: { size: 100, ttlMs: 600_000 } }, room: { presence: true } },
  });
  const good = await client(server, 'good');
  const got: ReceivedPublication[] = [];
  await good.subscribe('chat:a', { onPublication: (p) => got.push(p) }).ready;
  return { server, log, good, got };
}

describe('JSON nested past the limit is the client’s mistake', () => {
  it('a frame of any command nested deeper than the limit gets invalid_command; nothing stored, nothing logged', async () => {
    const { server, log, good, got } = await setup();
    const raw = await connectedRawSocket(server, 'deep');
    // Publication data, presence state and user data at 4,200 levels (what once got `unavailable`/`internal`).
    const data = deepText(4_200);
    const frames: Array<[number, string]> = [
      [10, `{"type":"publish","id":10,"channel":"chat:a","data":${data}}`],
      [11, `{"type":"presence.enter","id":11,"channel":"room:a","clientId":"c1","state":${data}}`],
      [12, `{"type":"presence.update","id":12,"channel":"room:a","clientId":"c1","state":${data}}`],
      [13, `{"type":"doc.mutate","id":13,"doc":"x:y","clientId":"c","mutationId":1,"name":"m","args":${data}}`],
      // Just past the limit: the command object is level 1, so data at level 2 may nest MAX_JSON_DEPTH - 1.
      [14, `{"type":"publish","id":14,"channel":"chat:a","data":${deepText(MAX_JSON_DEPTH)}}`],
    ];
    for (const [, frame] of frames) raw.send(frame);
    // A batch: the deep command is refused, its neighbour is served.
    raw.send(
      `[{"type":"publish","id":15,"channel":"chat:a","data":${data}},{"type":"history","id":16,"channel":"chat:a"}]`,
    );
    for (const id of [10, 11, 12, 13, 14, 15]) {
      const m = await raw.next((x) => x.id === id);
      expect({ id, type: m.type, code: m.code }).toEqual({ id, type: 'error', code: 'invalid_command' });
      expect(String(m.message)).toContain(`${MAX_JSON_DEPTH} levels`);
    }
    expect((await raw.next((x) => x.id === 16)).type).toBe('reply');
    // At the limit it is accepted.
    raw.send(`{"type":"publish","id":17,"channel":"chat:a","data":${deepText(MAX_JSON_DEPTH - 1)}}`);
    expect((await raw.next((x) => x.id === 17)).type).toBe('reply');
    expect(raw.closed).toBeUndefined();
    expect((await good.history('chat:a')).offset).toBe(1);
    expect((await server.presence.list('room:a')).entries).toEqual([]);
    const r = await good.publish('chat:a', 'healthy');
    expect(r.offset).toBe(2);
    await waitForValue(() => got.map((p) => p.offset), [1, 2], 5_000, 'offsets');
    expect(log.errors()).toEqual([]);
  });

  it('HTTP API bodies nested deeper than the limit get 400 invalid_request; nothing stored, nothing logged', async () => {
    const { server, log, good } = await setup();
    const data = deepText(4_200);
    const cases: Array<[string, string, string]> = [
      ['POST', '/v1/publish', `{"channel":"chat:a","data":${data}}`],
      ['POST', '/v1/publish/batch', `{"items":[{"channel":"chat:a","data":${data}}]}`],
      ['POST', '/v1/users/good/messages', `{"data":${data}}`],
      ['POST', '/v1/docs/x:y/mutate', `{"name":"m","args":${data}}`],
    ];
    for (const [method, path, body] of cases) {
      const res = await api(server, method, path, body);
      expect({
        path,
        status: res.status,
        code: (res.body.error as { code?: string } | undefined)?.code ?? res.body.code,
      }).toEqual({
        path,
        status: 400,
        code: 'invalid_request',
      });
    }
    expect((await good.history('chat:a')).offset).toBe(0);
    expect(log.errors()).toEqual([]);
  });
});
