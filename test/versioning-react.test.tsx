// @vitest-environment happy-dom

import { SynclineProvider, useUpdate } from '@syncline/react';
import { cleanup, render, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { UpdateBanner } from '../examples/chat/src/components/update-banner.tsx';
import { client, memoryStorage, startServer, waitFor, waitState } from './helpers.js';

afterEach(() => cleanup());

function Status(): ReactNode {
  const u = useUpdate();
  return <p data-testid="status">{`${u.status}/${u.version ?? '-'}/${String(u.reload)}`}</p>;
}

const state = (): string | null | undefined =>
  screen.queryByTestId('update-banner')?.getAttribute('data-state') ?? null;

describe('useUpdate and the chat update banner', () => {
  it('shows nothing when current, a banner for available, a blocking dialog for required, and respects the guard', async () => {
    const server = await startServer({ app: { version: '1.0.0' } });
    const tab = memoryStorage();
    const c = await client(server, 'alice', { app: { version: '1.0.0' }, reloadGuardStorage: tab });
    render(
      <SynclineProvider client={c}>
        <Status />
        <UpdateBanner />
      </SynclineProvider>,
    );
    await waitState(c, 'connected');
    await waitFor(() => screen.getByTestId('status').textContent === 'none/1.0.0/false');
    expect(state()).toBeNull();

    await server.setAppVersion({ version: '1.1.0', recommendedClientVersion: '1.1.0' });
    await waitFor(() => state() === 'available', 5_000, 'available banner');
    expect(screen.getByTestId('update-banner').textContent).toContain('New version available');
    expect(screen.getByTestId('status').textContent).toBe('available/1.1.0/true');

    await server.setAppVersion({ version: '2.0.0', minClientVersion: '2.0.0', message: 'Version 2 is required.' });
    await waitFor(() => state() === 'required', 5_000, 'required dialog');
    const dialog = screen.getByTestId('update-banner');
    expect(dialog.getAttribute('role')).toBe('alertdialog');
    expect(dialog.textContent).toContain('Version 2 is required.');
    expect(dialog.textContent).toContain('can no longer send');
    cleanup();
    c.close();

    // The "reloaded" page still runs 1.0.0: the dialog says the reload did not help instead of looping.
    const again = await client(server, 'alice', { app: { version: '1.0.0' }, reloadGuardStorage: tab });
    render(
      <SynclineProvider client={again}>
        <UpdateBanner />
      </SynclineProvider>,
    );
    await waitFor(() => state() === 'required', 5_000, 'required after reload');
    expect(screen.getByTestId('update-banner').textContent).toContain('did not bring the new version yet');
  });
});
