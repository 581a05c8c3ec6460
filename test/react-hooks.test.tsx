// @vitest-environment happy-dom

import {
  SynclineProvider,
  shallowEqual,
  useChannel,
  useChannelMessages,
  useConnectionState,
  useConnectionStatus,
  useStore,
} from '@syncline/react';
import { act, cleanup, render, screen } from '@testing-library/react';
import { type ReactNode, StrictMode, useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { client, startServer, waitFor } from './helpers.js';

afterEach(() => cleanup());

function ConnectionLabel(): ReactNode {
  const state = useConnectionState();
  const status = useConnectionStatus();
  return (
    <p data-testid="conn">
      {state}/{status.change?.reason ?? 'none'}
    </p>
  );
}

describe('react hooks over a real server', () => {
  it('useConnectionState follows the client through connect, disconnect and reconnect', async () => {
    const server = await startServer();
    const c = await client(server, 'alice', { autoConnect: false });
    render(
      <SynclineProvider client={c}>
        <ConnectionLabel />
      </SynclineProvider>,
    );
    expect(screen.getByTestId('conn').textContent).toBe('disconnected/none');
    act(() => c.connect());
    await waitFor(() => screen.getByTestId('conn').textContent === 'connected/connected', 5_000, 'connected');
    act(() => c.disconnect());
    await waitFor(() => screen.getByTestId('conn').textContent === 'disconnected/client_closed', 5_000, 'disconnected');
    act(() => c.connect());
    await waitFor(() => screen.getByTestId('conn').textContent === 'connected/connected', 5_000, 'reconnected');
  });

  it('useChannel delivers every publication once and shares one subscription across components', async () => {
    const server = await startServer();
    const c = await client(server, 'alice');
    const seenA: unknown[] = [];
    const seenB: unknown[] = [];
    function Listener({ id, seen }: { id: string; seen: unknown[] }): ReactNode {
      const { state } = useChannel('chat:room', (p) => seen.push(p.data));
      return <p data-testid={id}>{state}</p>;
    }
    render(
      <StrictMode>
        <SynclineProvider client={c}>
          <Listener id="a" seen={seenA} />
          <Listener id="b" seen={seenB} />
        </SynclineProvider>
      </StrictMode>,
    );
    await waitFor(() => screen.getByTestId('a').textContent === 'subscribed', 5_000, 'subscribed');
    const other = await client(server, 'bob');
    for (let i = 1; i <= 5; i++) await other.publish('chat:room', { n: i });
    await waitFor(() => seenA.length === 5 && seenB.length === 5, 5_000, 'publications');
    expect(seenA).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));
    expect(seenB).toEqual(seenA);
    expect(screen.getByTestId('b').textContent).toBe('subscribed');
  });

  it('useChannelMessages loads history, appends live publications and unsubscribes on unmount', async () => {
    const server = await startServer();
    const publisher = await client(server, 'bob');
    for (let i = 1; i <= 8; i++) await publisher.publish('chat:hist', `m${i}`);
    const c = await client(server, 'alice');
    let renders = 0;
    function Messages(): ReactNode {
      renders++;
      const { messages, status } = useChannelMessages('chat:hist', { history: 5 });
      return (
        <ul data-testid="list" data-status={status}>
          {messages.map((m) => (
            <li key={m.offset}>{String(m.data)}</li>
          ))}
        </ul>
      );
    }
    function Toggle(): ReactNode {
      const [shown, setShown] = useState(true);
      return (
        <>
          <button type="button" onClick={() => setShown((s) => !s)}>
            toggle
          </button>
          {shown ? <Messages /> : null}
        </>
      );
    }
    render(
      <SynclineProvider client={c}>
        <Toggle />
      </SynclineProvider>,
    );
    const texts = (): string[] => [...screen.queryAllByRole('listitem')].map((li) => li.textContent ?? '');
    await waitFor(() => screen.getByTestId('list').dataset.status === 'live', 5_000, 'history');
    expect(texts()).toEqual(['m4', 'm5', 'm6', 'm7', 'm8']);
    await publisher.publish('chat:hist', 'm9');
    await waitFor(() => texts().length === 6, 5_000, 'live message');
    expect(texts().at(-1)).toBe('m9');
    expect(renders).toBeLessThan(20);

    act(() => screen.getByRole('button').click());
    await waitFor(() => c.getSubscription('chat:hist') === undefined, 5_000, 'unsubscribed after unmount');
    // Published while nobody shows the channel: recovered when it is shown again.
    await publisher.publish('chat:hist', 'm10');
    act(() => screen.getByRole('button').click());
    await waitFor(() => texts().at(-1) === 'm10', 5_000, 'recovered message');
    expect(texts()).toEqual(['m4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10']);
  });

  it('useStore re-renders only when the selected slice changes', async () => {
    let value = { a: 1, b: [1] };
    const listeners = new Set<() => void>();
    const store = {
      get current() {
        return value;
      },
      subscribe(l: () => void) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    const set = (v: typeof value): void => {
      value = v;
      for (const l of listeners) l();
    };
    let renders = 0;
    function A(): ReactNode {
      renders++;
      const pair = useStore(store, (s) => [s.a, s.a * 2], shallowEqual);
      return <p data-testid="a">{pair.join(',')}</p>;
    }
    render(<A />);
    expect(screen.getByTestId('a').textContent).toBe('1,2');
    const before = renders;
    act(() => set({ ...value, b: [2] }));
    expect(renders).toBe(before);
    act(() => set({ ...value, a: 3 }));
    expect(screen.getByTestId('a').textContent).toBe('3,6');
    expect(renders).toBe(before + 1);
  });
});
