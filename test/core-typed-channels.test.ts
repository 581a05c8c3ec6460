import type { PresenceMember } from '@syncline/client';
import { defineConfig } from '@syncline/server';
import * as v from 'valibot';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { client, refusal, startServer, waitFor, waitForValue, waitState } from './helpers.js';
import { api } from './http-api-helpers.js';

/** The app's declaration, as a `syncline.config.ts` would export it. */
const config = defineConfig({
  apiKey: 'typed-api-key-0123456789',
  namespaces: {
    chat: {
      history: { size: 100 },
      data: v.object({
        text: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
        mood: v.optional(v.picklist(['ok', 'meh'])),
      }),
    },
    room: { presence: { state: v.object({ typing: v.boolean() }) } },
    free: {},
  },
});

type Message = { text: string; mood?: 'ok' | 'meh' | undefined };

describe('typed channels and presence', () => {
  it('types publish, subscribe, history and presence from the config, and refuses wrong names at compile time', async () => {
    const server = await startServer(config);
    const c = await client<typeof config>(server, 'alice');
    const got: Message[] = [];
    const sub = c.subscribe('chat:lobby', {
      onPublication: (p) => {
        expectTypeOf(p.data).toEqualTypeOf<Message>();
        got.push(p.data);
      },
    });
    await sub.ready;
    await c.publish('chat:lobby', { text: 'hi', mood: 'ok' });
    // @ts-expect-error: the data does not match the namespace's schema type.
    await refusal(c.publish('chat:lobby', { txt: 'no' }));
    // @ts-expect-error: no namespace "nope" is declared.
    expect(() => c.subscribe('nope:x')).not.toThrow();
    // @ts-expect-error: a channel name needs its namespace.
    await refusal(c.publish('lobby', { text: 'x' }));
    const untypedData: unknown = await Promise.resolve({ anything: true });
    await c.publish('free:x', untypedData);

    const history = await c.history('chat:lobby');
    expectTypeOf(history.publications[0]?.data).toEqualTypeOf<Message | undefined>();
    await waitForValue(() => got, [{ text: 'hi', mood: 'ok' }], 5_000, 'publications');

    const room = c.presence('room:1');
    expectTypeOf(room.state).toEqualTypeOf<{ typing: boolean } | undefined>();
    expectTypeOf(room.members.current).toEqualTypeOf<readonly PresenceMember<{ typing: boolean }>[]>();
    await room.enter({ typing: true });
    // @ts-expect-error: presence state has the namespace's schema type.
    await refusal(room.update({ typing: 'yes' }));
    await waitFor(
      () => room.members.current.length === 1,
      5_000,
      () => `members ${JSON.stringify(room.members.current)}`,
    );
    expect(room.members.current[0]?.state).toEqual({ typing: true });
  });

  it('refuses data and presence state that fail the schema, on every path, with invalid_data and nothing stored', async () => {
    const server = await startServer(config);
    const reader = await client(server, 'reader');
    const got: unknown[] = [];
    await reader.subscribe('chat:a', { onPublication: (p) => got.push(p.data) }).ready;
    const writer = await client(server, 'writer');
    await waitState(writer, 'connected');

    const fromClient = await refusal(writer.publish('chat:a', { text: '' }));
    expect(fromClient.code).toBe('invalid_data');
    expect(fromClient.message).toMatch(/^Invalid publication data at "text": /);
    expect(fromClient.details).toMatchObject({ issues: [{ path: 'text' }] });
    expect((await refusal(writer.publish('chat:a', 'just a string'))).code).toBe('invalid_data');

    const fromServer = await refusal(server.publish('chat:a', { text: 'x'.repeat(201) }));
    expect(fromServer.code).toBe('invalid_data');

    const fromApi = await api(
      server,
      'POST',
      '/v1/publish',
      { channel: 'chat:a', data: { text: 5 } },
      { key: config.apiKey },
    );
    expect(fromApi.status).toBe(400);
    expect(fromApi.body).toMatchObject({ error: { code: 'invalid_data', details: { issues: [{ path: 'text' }] } } });

    // What passes is stored and delivered as sent; nothing of the refused ones is.
    await writer.publish('chat:a', { text: 'fine' });
    await waitForValue(() => got, [{ text: 'fine' }], 5_000, 'delivered data');
    expect((await reader.history('chat:a')).publications.map((p) => p.data)).toEqual([{ text: 'fine' }]);

    const room = writer.presence('room:1');
    expect((await refusal(room.enter({ typing: 1 }))).code).toBe('invalid_data');
    expect((await refusal(room.enter(null))).code).toBe('invalid_data');
    await room.enter({ typing: false });
    const watcher = reader.presence('room:1');
    await waitFor(
      () => watcher.members.current.length === 1,
      5_000,
      () => `members ${JSON.stringify(watcher.members.current)}`,
    );
    expect(watcher.members.current[0]?.state).toEqual({ typing: false });
    // The connection keeps serving after every refusal.
    expect(writer.state).toBe('connected');
  });

  it('refuses a namespace schema that is not a Standard Schema when the server starts', async () => {
    const notASchema = { parse: () => true } as never;
    await expect(startServer({ namespaces: { bad: { data: notASchema } } })).rejects.toThrow(
      /Namespace "bad": data must be a Standard Schema/,
    );
    await expect(startServer({ namespaces: { bad: { presence: { state: notASchema } } } })).rejects.toThrow(
      /Namespace "bad": presence.state must be a Standard Schema/,
    );
  });
});
