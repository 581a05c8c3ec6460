import { type AppUpdate, memoryReloadStorage } from '@syncline/client';
import { compareVersions, type SynclineError, updateStatusFor } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { testMutators } from './docs-fixtures.js';
import { client, memoryStorage, startServer, tempDir, waitFor, waitForValue, waitState } from './helpers.js';
import { API_KEY, api } from './http-api-helpers.js';

const DOCS = { notes: { mutators: testMutators, initialState: { count: 0, items: [], tally: {} } } };

describe('app version comparison', () => {
  it('orders dotted numeric versions the semver way', () => {
    expect(compareVersions('1.2.0', '1.10.0')).toBe(-1);
    expect(compareVersions('2', '2.0.0')).toBe(0);
    expect(compareVersions('v2.0.1', '2.0.0')).toBe(1);
    expect(compareVersions('2.0.0-rc.1', '2.0.0')).toBe(-1);
    expect(compareVersions('2.0.0-rc.2', '2.0.0-rc.10')).toBe(-1);
    expect(compareVersions('2.0.0+abc', '2.0.0+def')).toBe(0);
    expect(compareVersions('banana', '0.0.1')).toBe(-1);
  });

  it('judges a client version against the minimum and the recommended version', () => {
    const cfg = { version: '3.0.0', minClientVersion: '2.0.0', recommendedClientVersion: '3.0.0', message: 'm' };
    expect(updateStatusFor('1.9.9', cfg).status).toBe('required');
    expect(updateStatusFor('2.0.0', cfg).status).toBe('available');
    expect(updateStatusFor('3.0.0', cfg)).toEqual({
      status: 'none',
      version: '3.0.0',
      minClientVersion: '2.0.0',
      recommendedClientVersion: '3.0.0',
    });
    expect(updateStatusFor(undefined, cfg).status).toBe('none');
    expect(updateStatusFor('1.0.0', undefined)).toEqual({ status: 'none' });
  });

  it('refuses a malformed app config at startup', async () => {
    await expect(startServer({ app: { version: 'latest' } })).rejects.toThrow(/app.version/);
  });
});

describe('app update flows', () => {
  it('available: the client is told and keeps writing', async () => {
    const server = await startServer({
      docs: DOCS,
      app: { version: '2.0.0', recommendedClientVersion: '2.0.0', message: 'A new version is out.' },
    });
    const events: AppUpdate[] = [];
    const c = await client(server, 'alice', { app: { version: '1.5.0' }, reloadGuardStorage: memoryStorage() });
    c.on('update', (u) => events.push(u));
    await waitState(c, 'connected');
    expect(events).toHaveLength(1);
    expect(c.update).toEqual({
      status: 'available',
      version: '2.0.0',
      recommendedClientVersion: '2.0.0',
      message: 'A new version is out.',
      reload: true,
    });
    expect((await c.publish('chat:a', 'hi')).offset).toBe(1);
    const doc = c.doc('notes:a', { mutators: testMutators });
    await doc.ready;
    await doc.mutate.increment({});
    expect(doc.confirmed?.count).toBe(1);
  });

  it('required: reads work, publishes and mutations are refused with client_outdated and rolled back', async () => {
    const server = await startServer({
      docs: DOCS,
      app: { version: '2.0.0', minClientVersion: '2.0.0', message: 'Please reload.' },
    });
    await server.docs.mutate('notes:r', 'increment', { by: 5 });
    await server.publish('chat:r', 'before');
    const old = await client(server, 'alice', { app: { version: '1.0.0' }, reloadGuardStorage: memoryStorage() });
    await waitState(old, 'connected');
    expect(old.update).toMatchObject({ status: 'required', version: '2.0.0', message: 'Please reload.', reload: true });

    // Reads keep working.
    const sub = old.subscribe('chat:r', { since: { epoch: '', offset: 0 } });
    await waitForValue(() => sub.state, 'subscribed', 5_000, 'subscription state');
    expect((await old.history('chat:r')).publications.map((p) => p.data)).toEqual(['before']);
    const doc = old.doc('notes:r', { mutators: testMutators });
    await doc.ready;
    expect(doc.current?.count).toBe(5);

    // Writes are refused.
    const pubErr = (await old.publish('chat:r', 'x').catch((e: unknown) => e)) as SynclineError;
    expect(pubErr.code).toBe('client_outdated');
    expect(pubErr.group).toBe('fatal');
    expect(pubErr.details).toMatchObject({ reason: 'app', clientVersion: '1.0.0', minClientVersion: '2.0.0' });
    const first = doc.mutate.increment({});
    const second = doc.mutate.increment({});
    expect(doc.current?.count).toBe(7);
    await expect(first).rejects.toMatchObject({ code: 'client_outdated' });
    await expect(second).rejects.toMatchObject({ code: 'client_outdated' });
    await waitForValue(
      () => ({ count: doc.current?.count, pending: doc.pendingCount }),
      { count: 5, pending: 0 },
      5_000,
      'document after the rollback',
    );
    expect((await server.docs.get('notes:r')).state).toMatchObject({ count: 5 });
    expect((await old.history('chat:r')).publications).toHaveLength(1);

    // A current client writes; the document's exactly-once bookkeeping was not disturbed.
    const cur = await client(server, 'bob', { app: { version: '2.0.0' } });
    await waitState(cur, 'connected');
    expect(cur.update.status).toBe('none');
    const d2 = cur.doc('notes:r', { mutators: testMutators });
    await d2.mutate.increment({});
    await waitForValue(() => doc.current?.count, 6, 5_000, 'count read by the old client');
  });

  it('an announce over the HTTP API pushes the new verdict to connected clients', async () => {
    const server = await startServer({ apiKey: API_KEY, app: { version: '1.0.0' } });
    const old = await client(server, 'alice', { app: { version: '1.0.0' }, reloadGuardStorage: memoryStorage() });
    const cur = await client(server, 'bob', { app: { version: '2.0.0' }, reloadGuardStorage: memoryStorage() });
    await waitState(old, 'connected');
    await waitState(cur, 'connected');
    expect(old.update.status).toBe('none');
    await old.publish('chat:h', 'ok');

    expect((await api(server, 'GET', '/v1/app')).body).toEqual({ app: { version: '1.0.0' } });
    const res = await api(server, 'POST', '/v1/app/announce', {
      version: '2.0.0',
      minClientVersion: '2.0.0',
      message: 'Version 2 is here.',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ version: '2.0.0', notified: 2, sessions: { none: 1, available: 0, required: 1 } });
    await waitForValue(() => old.update.status, 'required', 5_000, 'update status');
    expect(old.update).toMatchObject({ version: '2.0.0', message: 'Version 2 is here.', reload: true });
    await waitForValue(() => cur.update.version, '2.0.0', 5_000, 'update version');
    expect(cur.update.status).toBe('none');
    await expect(old.publish('chat:h', 'no')).rejects.toMatchObject({ code: 'client_outdated' });
    await cur.publish('chat:h', 'yes');
    expect(server.app).toEqual({ version: '2.0.0', minClientVersion: '2.0.0', message: 'Version 2 is here.' });

    // Bad input gets documented codes and changes nothing.
    expect((await api(server, 'POST', '/v1/app/announce', { version: 'two' })).body).toMatchObject({
      error: { code: 'invalid_request' },
    });
    expect((await api(server, 'POST', '/v1/app/announce', { minClientVersion: '1.0.0' })).status).toBe(400);
    expect((await api(server, 'POST', '/v1/app/announce', 'nope')).status).toBe(400);
    expect((await api(server, 'POST', '/v1/app/announce', { version: '3.0.0' }, { key: 'wrong' })).body).toMatchObject({
      error: { code: 'unauthorized' },
    });
    expect(server.app?.version).toBe('2.0.0');
  });

  it('a restart with a new version gives reconnecting clients the new verdict', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir, app: { version: '1.0.0' } });
    const port = first.port;
    const c = await client(first, 'alice', { app: { version: '1.0.0' }, reloadGuardStorage: memoryStorage() });
    await waitState(c, 'connected');
    expect(c.update.status).toBe('none');
    const seen: string[] = [];
    c.on('update', (u) => seen.push(`${u.status}@${u.version}`));
    await first.close();
    await startServer({ dataDir, port, app: { version: '1.1.0', minClientVersion: '1.1.0' } });
    await waitForValue(() => seen, ['required@1.1.0'], 10_000, 'updates after reconnect');
    expect(seen).toEqual(['required@1.1.0']);
    await waitState(c, 'connected');
    await expect(c.publish('chat:x', 1)).rejects.toMatchObject({ code: 'client_outdated' });
  });

  it('reload-loop guard: one reload request per target version per interval', async () => {
    const server = await startServer({ app: { version: '2.0.0', minClientVersion: '2.0.0' } });
    const tab = memoryStorage();
    const open = async (guardMs?: number) => {
      const c = await client(server, 'alice', {
        app: { version: '1.0.0' },
        reloadGuardStorage: tab,
        ...(guardMs === undefined ? {} : { reloadGuardMs: guardMs }),
      });
      await waitState(c, 'connected');
      return c;
    };
    // The first page load asks for a reload …
    const a = await open();
    expect(a.update).toMatchObject({ status: 'required', version: '2.0.0', reload: true });
    a.close();
    // … the reloaded page still runs 1.0.0 (stale cache): no second request for 2.0.0.
    const b = await open();
    expect(b.update).toMatchObject({ status: 'required', version: '2.0.0', reload: false });
    // A new target version may be asked for at once.
    await server.setAppVersion({ version: '2.0.1', minClientVersion: '2.0.0' });
    await waitForValue(() => b.update.version, '2.0.1', 5_000, 'update version');
    expect(b.update.reload).toBe(true);
    b.close();
    // Once the interval has passed, the same version may be asked for again.
    const askedAt = Number(tab.getItem('syncline:reload:2.0.1'));
    expect(askedAt).toBeGreaterThan(0);
    await waitFor(() => Date.now() - askedAt > 60, 5_000, 'guard interval');
    const c = await open(50);
    expect(c.update).toMatchObject({ status: 'required', version: '2.0.1', reload: true });
  });

  it('reload-loop guard: available then required for one version in one page load still asks for the reload', async () => {
    const server = await startServer({ app: { version: '1.0.0' } });
    const tab = memoryStorage();
    const c = await client(server, 'alice', { app: { version: '1.0.0' }, reloadGuardStorage: tab });
    await waitState(c, 'connected');
    await server.setAppVersion({ version: '1.1.0', recommendedClientVersion: '1.1.0' });
    await waitForValue(() => c.update.status, 'available', 5_000, 'update status');
    expect(c.update.reload).toBe(true);
    // The user did not reload; the version becomes required: nothing failed, so the UI still asks.
    await server.setAppVersion({ version: '1.1.0', minClientVersion: '1.1.0' });
    await waitForValue(() => c.update.status, 'required', 5_000, 'update status');
    expect(c.update).toMatchObject({ version: '1.1.0', reload: true });
    c.close();
    // The page reloaded and still runs 1.0.0: now the guard holds.
    const again = await client(server, 'alice', { app: { version: '1.0.0' }, reloadGuardStorage: tab });
    await waitState(again, 'connected');
    expect(again.update).toMatchObject({ status: 'required', version: '1.1.0', reload: false });
  });

  it('keeps the guard in process memory by default outside browsers', () => {
    memoryReloadStorage.setItem('syncline:test', '1');
    expect(memoryReloadStorage.getItem('syncline:test')).toBe('1');
    memoryReloadStorage.removeItem('syncline:test');
  });
});
