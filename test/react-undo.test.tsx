// @vitest-environment happy-dom
import type { DocReplica } from '@syncline/client';
import { defineMutators, type Transaction } from '@syncline/protocol';
import { SynclineProvider, useDoc, useUndo } from '@syncline/react';
import { act, cleanup, render, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { client, startServer, waitFor } from './helpers.js';

afterEach(() => cleanup());

interface Notes {
  lines: string[];
}

const notesMutators = defineMutators({
  add(tx: Transaction<Notes>, a: { text: string }) {
    tx.draft.lines.push(a.text);
  },
});

type Replica = DocReplica<Notes, typeof notesMutators>;

describe('useUndo', () => {
  it('re-renders with canUndo and canRedo; undo and redo go through the server to the other editor', async () => {
    const server = await startServer({
      docs: { notes: { mutators: notesMutators, initialState: { lines: [] }, undo: true } },
    });
    const alice = await client(server, 'alice');
    const bob = await client(server, 'bob');
    const mine = alice.doc('notes:1', { mutators: notesMutators, undo: true }) as Replica;
    const theirs = bob.doc('notes:1', { mutators: notesMutators, undo: true }) as Replica;
    await Promise.all([mine.ready, theirs.ready]);

    function Editor(): ReactNode {
      const lines = useDoc<Notes, string[]>('notes:1', (s) => s?.lines ?? []);
      const { undo, redo, canUndo, canRedo } = useUndo(mine);
      return (
        <div>
          <p data-testid="lines">{lines.join(',')}</p>
          <button type="button" onClick={() => void mine.mutate.add({ text: `l${lines.length}` })}>
            add
          </button>
          <button type="button" disabled={!canUndo} onClick={() => void undo()}>
            undo
          </button>
          <button type="button" disabled={!canRedo} onClick={() => void redo()}>
            redo
          </button>
        </div>
      );
    }
    render(
      <SynclineProvider client={alice} docs={{ notes: { mutators: notesMutators, undo: true } }}>
        <Editor />
      </SynclineProvider>,
    );
    const button = (name: string) => screen.getByRole('button', { name }) as HTMLButtonElement;
    const lines = () => screen.getByTestId('lines').textContent;
    await waitFor(() => mine.status === 'synced', 5_000, 'synced');
    expect([button('undo').disabled, button('redo').disabled]).toEqual([true, true]);

    act(() => button('add').click());
    await waitFor(() => lines() === 'l0', 5_000, 'line added');
    expect([button('undo').disabled, button('redo').disabled]).toEqual([false, true]);
    await waitFor(() => theirs.current?.lines.join(',') === 'l0', 5_000, 'bob sees the line');
    await theirs.mutate.add({ text: 'bob' });
    await waitFor(() => lines() === 'l0,bob', 5_000, 'bob’s line');

    act(() => button('undo').click());
    await waitFor(() => lines() === 'bob', 5_000, 'undone');
    expect([button('undo').disabled, button('redo').disabled]).toEqual([true, false]);
    await waitFor(() => theirs.current?.lines.join(',') === 'bob', 5_000, 'bob sees the undo');

    act(() => button('redo').click());
    await waitFor(() => theirs.current?.lines.join(',') === 'l0,bob', 5_000, 'bob sees the redo');
    expect(lines()).toBe('l0,bob');
    expect([button('undo').disabled, button('redo').disabled]).toEqual([false, true]);
  });
});
