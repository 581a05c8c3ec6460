// @vitest-environment happy-dom

import { createSynclineHooks, SynclineProvider } from '@syncline/react';
import { defineConfig } from '@syncline/server';
import { act, cleanup, render, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import * as v from 'valibot';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { client, startServer, waitForValue } from './helpers.js';

afterEach(() => cleanup());

const config = defineConfig({
  namespaces: {
    chat: { data: v.object({ text: v.string() }) },
    room: { presence: { state: v.object({ typing: v.boolean() }) } },
  },
});

const { useChannel, useChannelMessages, usePresence } = createSynclineHooks<typeof config>();

function Room(): ReactNode {
  const { publish } = useChannel('chat:a');
  const { messages } = useChannelMessages('chat:a');
  const members = usePresence('room:a', { state: { typing: true } });
  expectTypeOf(messages[0]?.data).toEqualTypeOf<{ text: string } | undefined>();
  expectTypeOf(members[0]?.state).toEqualTypeOf<{ typing: boolean } | undefined>();
  expectTypeOf(publish).parameter(0).toEqualTypeOf<{ text: string }>();
  return (
    <div>
      <p data-testid="messages">{messages.map((m) => m.data.text).join(',')}</p>
      <p data-testid="typing">{members.filter((m) => m.state.typing).length}</p>
      <button type="button" data-testid="send" onClick={() => void publish({ text: 'hello' })}>
        send
      </button>
    </div>
  );
}

// Compile-time checks only (never rendered): wrong names and shapes are errors.
function Wrong(): ReactNode {
  // @ts-expect-error: no namespace "nope" is declared.
  useChannel('nope:a');
  const { publish } = useChannel('chat:a');
  // @ts-expect-error: the data does not match the namespace's schema type.
  void publish({ body: 'x' });
  // @ts-expect-error: presence state has the namespace's schema type.
  usePresence('room:a', { state: { typing: 'yes' } });
  return null;
}

describe('typed React hooks (createSynclineHooks)', () => {
  it('publish, receive and show presence with the types of the config', async () => {
    expect(typeof Wrong).toBe('function');
    const server = await startServer(config);
    const c = await client(server, 'alice');
    render(
      <SynclineProvider client={c}>
        <Room />
      </SynclineProvider>,
    );
    await waitForValue(() => screen.getByTestId('typing').textContent, '1', 5_000, 'typing members');
    act(() => screen.getByTestId('send').click());
    await waitForValue(() => screen.getByTestId('messages').textContent, 'hello', 5_000, 'messages');
  });
});
