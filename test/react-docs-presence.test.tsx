// @vitest-environment happy-dom
import { defineMutators, type Transaction } from '@syncline/protocol';
import { SynclineProvider, useDoc, useDocView, useMutate, usePresence } from '@syncline/react';
import { act, cleanup, render, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { client, startServer, waitFor } from './helpers.js';

afterEach(() => cleanup());

interface Board {
  title: string;
  items: { id: string; text: string }[];
  votes: Record<string, number>;
}

const boardMutators = defineMutators({
  add(tx: Transaction<Board>, a: { id: string; text: string }) {
    tx.draft.items.push({ id: a.id, text: a.text });
  },
  vote(tx: Transaction<Board>, a: { id: string }) {
    tx.draft.votes[a.id] = (tx.draft.votes[a.id] ?? 0) + 1;
  },
  rename(tx: Transaction<Board>, a: { title: string }) {
    // The server has the last word: it refuses what the client accepted.
    if (a.title === 'refused' && tx.location === 'server') throw new Error('not this title');
    tx.draft.title = a.title;
  },
});

const DOCS = { board: { mutators: boardMutators } };

async function boardServer() {
  return startServer({
    docs: { board: { mutators: boardMutators, initialState: { title: 'Board', items: [], votes: {} } } },
    namespaces: { room: { presence: true } },
  });
}

describe('react document and presence hooks over a real server', () => {
  it('useDoc re-renders only when the selected slice changes; useMutate applies optimistically', async () => {
    const server = await boardServer();
    const alice = await client(server, 'alice');
    const bob = await client(server, 'bob');
    let titleRenders = 0;
    let itemRenders = 0;
    function Title(): ReactNode {
      titleRenders++;
      const title = useDoc<Board, string | undefined>('board:1', (s) => s?.title);
      return <h1>{title ?? '…'}</h1>;
    }
    function Items(): ReactNode {
      itemRenders++;
      const items = useDoc<Board, Board['items']>('board:1', (s) => s?.items ?? []);
      const status = useDocView<Board>('board:1').status;
      const mutate = useMutate<typeof boardMutators>('board:1');
      return (
        <div>
          <p data-testid="status">{status}</p>
          <ul>
            {items.map((i) => (
              <li key={i.id}>{i.text}</li>
            ))}
          </ul>
          <button
            type="button"
            onClick={() => void mutate.add({ id: `a${items.length}`, text: `from alice ${items.length}` })}
          >
            add
          </button>
        </div>
      );
    }
    render(
      <SynclineProvider client={alice} docs={DOCS}>
        <Title />
        <Items />
      </SynclineProvider>,
    );
    await waitFor(() => screen.queryByRole('heading')?.textContent === 'Board', 5_000, 'loaded');
    await waitFor(() => screen.getByTestId('status').textContent === 'synced', 5_000, 'synced');

    act(() => screen.getByRole('button').click());
    // Optimistic: visible before any server round trip completes.
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['from alice 0']);
    await waitFor(() => screen.getByTestId('status').textContent === 'synced', 5_000, 'confirmed');

    const titleBefore = titleRenders;
    const bobBoard = bob.doc('board:1', { mutators: boardMutators });
    await bobBoard.ready;
    await bobBoard.mutate.add({ id: 'b1', text: 'from bob' });
    await bobBoard.mutate.vote({ id: 'b1' });
    await waitFor(() => screen.getAllByRole('listitem').length === 2, 5_000, "bob's item");
    expect(titleRenders).toBe(titleBefore);

    const itemsBefore = itemRenders;
    await bobBoard.mutate.rename({ title: 'Renamed' });
    await waitFor(() => screen.getByRole('heading').textContent === 'Renamed', 5_000, 'rename');
    // The item list did not change: Items re-rendered at most for status changes, not for the title.
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['from alice 0', 'from bob']);
    expect(itemRenders - itemsBefore).toBeLessThanOrEqual(1);
  });

  it('useMutate shows a mutation at once, then rejects and rolls it back when the server refuses it', async () => {
    const server = await boardServer();
    const alice = await client(server, 'alice');
    let error = '';
    function Rename(): ReactNode {
      const title = useDoc<Board, string | undefined>('board:2', (s) => s?.title);
      const mutate = useMutate<typeof boardMutators>('board:2');
      return (
        <div>
          <h1>{title ?? '…'}</h1>
          <button
            type="button"
            onClick={() =>
              void mutate.rename({ title: 'refused' }).catch((e: Error) => {
                error = e.message;
              })
            }
          >
            ok
          </button>
        </div>
      );
    }
    render(
      <SynclineProvider client={alice} docs={DOCS}>
        <Rename />
      </SynclineProvider>,
    );
    await waitFor(() => screen.getByRole('heading').textContent === 'Board', 5_000, 'loaded');
    const seen: string[] = [];
    const replica = alice.doc('board:2', { mutators: boardMutators });
    const off = replica.subscribe(() => seen.push((replica.current as Board).title));
    act(() => screen.getByRole('button').click());
    // Optimistic: shown before the server answers.
    expect(screen.getByRole('heading').textContent).toBe('refused');
    await waitFor(() => error !== '', 5_000, 'rejection');
    expect(error).toMatch(/not this title/);
    await waitFor(() => screen.getByRole('heading').textContent === 'Board', 5_000, 'rolled back');
    expect(seen).toContain('Board');
    off();
  });

  it('usePresence lists members with their state and leaves on unmount', async () => {
    const server = await boardServer();
    const alice = await client(server, 'alice');
    const bob = await client(server, 'bob');
    function Members({ typing }: { typing: boolean }): ReactNode {
      const members = usePresence('room:lobby', { state: { typing } });
      return (
        <ul>
          {members.map((m) => (
            <li key={m.user}>
              {m.user}:{String((m.state as { typing?: boolean } | null)?.typing)}
            </li>
          ))}
        </ul>
      );
    }
    const view = render(
      <SynclineProvider client={alice}>
        <Members typing={false} />
      </SynclineProvider>,
    );
    const texts = (): string[] => screen.queryAllByRole('listitem').map((li) => li.textContent ?? '');
    await waitFor(() => texts().join() === 'alice:false', 5_000, 'alice entered');
    const bobPresence = bob.presence('room:lobby');
    await bobPresence.enter({ typing: true });
    await waitFor(() => texts().join() === 'alice:false,bob:true', 5_000, 'bob seen');
    view.rerender(
      <SynclineProvider client={alice}>
        <Members typing={true} />
      </SynclineProvider>,
    );
    await waitFor(
      () => bobPresence.members.current.some((m) => m.user === 'alice' && (m.state as { typing: boolean }).typing),
      5_000,
      'alice typing seen by bob',
    );
    view.unmount();
    await waitFor(() => bobPresence.members.current.every((m) => m.user !== 'alice'), 5_000, 'alice left');
  });
});
