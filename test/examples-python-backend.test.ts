/**
 * examples/python-backend: the Python backend (backend.py, standard library
 * only) behind a real `syncline start` configured by the committed
 * syncline.config.json (its backend URLs pointed at the backend's free port),
 * driven through the client SDK: sign-in by password and by session, a
 * private channel the backend refuses, the `lastSeen` RPC, and `presence.left`
 * webhooks landing in the backend's last_seen table. The backend runs with
 * its default (demo) secrets, so the test also proves they match the JSON.
 *
 * Skipped when python3 is missing, unless SYNCLINE_REQUIRE_SERVICES=1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SynclineClient } from '@syncline/client';
import { signWebhookBody } from '@syncline/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LobbyDoc, lobbyMutators, type RoomDoc, roomMutators } from '../examples/chat/src/shared/model.js';
import { codeBlocks } from './docs/code-blocks.js';
import { refusal, waitFor, waitState } from './helpers.js';
import {
  BACKEND,
  Children,
  CONFIGURED_BACKEND,
  childEnv,
  EXAMPLE,
  hasPython,
  PYTHON,
  sdk as sdkAt,
} from './python-backend/processes.js';

interface CommittedConfig {
  proxy: { secret: string };
  webhooks: Array<{ url: string; secret: string }>;
}
const committed = JSON.parse(readFileSync(join(EXAMPLE, 'syncline.config.json'), 'utf8')) as CommittedConfig;

const children = new Children();
let dir = '';
let db = '';
let backendUrl = '';
let synclineUrl = '';

/** A client of the Syncline server under test (or of `url`) that signs in with `connectData`. */
const sdk = (connectData: unknown, url = synclineUrl): SynclineClient => sdkAt(url, connectData);

/** The errors a client reports, as "code: message". */
function errorsOf(c: SynclineClient): string[] {
  const errors: string[] = [];
  c.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
  return errors;
}

/** POSTs JSON (or raw text) to the backend. */
async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${backendUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: text,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/**
 * Announces a body of `declared` bytes, sends its first KiB and waits for the answer: a
 * backend that refuses by the announced length answers without reading the rest (sending
 * it all would race the backend's close of the connection: EPIPE).
 */
function postOversized(path: string, declared: number): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${backendUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(declared) },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> });
      });
    });
    req.write(`{"pad":"${'x'.repeat(1_000)}`);
  });
}

async function login(user: string, password: string): Promise<{ session: string; expiresAt: number }> {
  const { status, json } = await post('/login', { user, password });
  expect(status, JSON.stringify(json)).toBe(200);
  return json as { session: string; expiresAt: number };
}

describe.skipIf(!hasPython)('examples/python-backend behind syncline start --config syncline.config.json', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'syncline-python-backend-'));
    db = join(dir, 'backend.sqlite3');
    backendUrl = await children.backend(db);
    // The committed config, with the backend where it listens.
    const text = readFileSync(join(EXAMPLE, 'syncline.config.json'), 'utf8');
    expect(text).toContain(CONFIGURED_BACKEND);
    const config = join(dir, 'syncline.config.json');
    writeFileSync(config, text.replaceAll(CONFIGURED_BACKEND, backendUrl));
    synclineUrl = await children.syncline([
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data',
      join(dir, 'syncline'),
      '--config',
      config,
    ]);
  });

  afterAll(() => {
    children.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs in with the right password; a wrong one is refused unauthorized with the backend message', async () => {
    const ada = sdk({ user: 'ada', password: 'lovelace' });
    await waitState(ada, 'connected');
    expect(ada.info?.user).toBe('ada');

    for (const data of [{ user: 'ada', password: 'wrong' }, { user: 'nobody', password: 'lovelace' }, {}]) {
      const c = sdk(data);
      const errors = errorsOf(c);
      const reasons: string[] = [];
      c.on('state', (e) => reasons.push(`${e.state}/${e.reason}`));
      await waitFor(
        () => errors.length > 0,
        5_000,
        () => `no error for ${JSON.stringify(data)}, state ${c.state}`,
      );
      expect(errors[0], JSON.stringify(data)).toMatch(/^unauthorized: /);
      if ('password' in data) expect(errors[0]).toBe('unauthorized: Wrong user name or password.');
      // Refused for its credentials: the client stops instead of retrying.
      await waitFor(
        () => reasons.at(-1) === 'disconnected/unauthorized',
        5_000,
        () => `states ${reasons}`,
      );
    }
  });

  it('connects a browser session from POST /login, and refuses it after POST /logout', async () => {
    const wrong = await post('/login', { user: 'grace', password: 'nope' });
    expect(wrong).toEqual({
      status: 401,
      json: { error: { code: 'unauthorized', message: 'Wrong user name or password.' } },
    });

    const { session, expiresAt } = await login('grace', 'hopper');
    expect(expiresAt).toBeGreaterThan(Date.now() + 3_600_000);
    const grace = sdk({ session });
    await waitState(grace, 'connected');
    expect(grace.info?.user).toBe('grace');

    expect((await post('/logout', { session })).status).toBe(200);
    const again = sdk({ session });
    const errors = errorsOf(again);
    await waitFor(() => errors.length > 0);
    expect(errors[0]).toBe('unauthorized: Your session has ended; sign in again.');
  });

  it('refuses a private channel to non-members with the backend code and message', async () => {
    const ada = sdk({ user: 'ada', password: 'lovelace' });
    const grace = sdk({ user: 'grace', password: 'hopper' });
    const got: unknown[] = [];
    await ada.subscribe('private:staff', { onPublication: (p) => got.push(p.data) }).ready;
    await ada.publish('private:staff', { text: 'staff only' });
    await waitFor(() => got.length === 1);

    const refused = await refusal(grace.subscribe('private:staff').ready);
    expect({ code: refused.code, message: refused.message }).toEqual({
      code: 'forbidden',
      message: 'private:staff is for its members only.',
    });
    // Nor can a non-member publish there: only subscribers may (allowPublish in the config).
    expect((await refusal(grace.publish('private:staff', { text: 'let me in' }))).code).toBe('forbidden');
    // Other private rooms have no members: refused to everyone.
    expect((await refusal(ada.subscribe('private:other').ready)).code).toBe('forbidden');
  });

  it('answers the lastSeen RPC from the last_seen table that presence.left webhooks fill', async () => {
    // A user added with the backend's own command (the password on stdin).
    const added = spawnSync(PYTHON, [BACKEND, '--db', db, 'add-user', 'linus'], {
      input: 'torvalds\n',
      env: childEnv(),
      encoding: 'utf8',
    });
    expect(added.status, added.stderr).toBe(0);

    const ada = sdk({ user: 'ada', password: 'lovelace' });
    expect(await ada.rpc('lastSeen', { user: 'linus' })).toEqual({ user: 'linus', lastSeen: null, channel: null });

    const linus = sdk({ user: 'linus', password: 'torvalds' });
    const online = linus.presence('online:everyone');
    await online.enter({ room: 'general' });
    const before = Date.now();
    await online.leave();

    // The webhook is delivered at once; the RPC reads what the backend stored.
    let seen = (await ada.rpc('lastSeen', { user: 'linus' })) as { lastSeen: string | null; channel: string | null };
    for (const deadline = Date.now() + 10_000; seen.lastSeen === null && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
      seen = (await ada.rpc('lastSeen', { user: 'linus' })) as typeof seen;
    }
    expect(seen.lastSeen, 'no presence.left reached the backend within 10 s').not.toBeNull();
    expect(seen.channel).toBe('online:everyone');
    expect(Date.parse(seen.lastSeen as string)).toBeGreaterThanOrEqual(before - 1_000);

    const badArgs = await refusal(ada.rpc('lastSeen', { who: 'linus' }));
    expect({ code: badArgs.code, message: badArgs.message }).toEqual({
      code: 'invalid_args',
      message: 'lastSeen takes { "user": "…" }.',
    });
    const missing = await refusal(ada.rpc('nothing'));
    expect(missing.code).toBe('forbidden'); // no `rpc` capability on it: Syncline refuses before asking
  });

  it('verifies webhook signatures, deduplicates events by id and takes batches', async () => {
    const secret = committed.webhooks[0]?.secret as string;
    const event = (id: string, time: string) => ({
      id,
      type: 'presence.left',
      time,
      data: { channel: 'online:everyone', user: 'grace', clientId: 'c1' },
    });
    const batch = JSON.stringify([
      event('evt_test_1', '2099-01-01T00:00:00.000Z'),
      event('evt_test_1', '2099-01-01T00:00:00.000Z'),
    ]);
    const now = Math.floor(Date.now() / 1000);
    const sign = (body: string, s = secret, t = now) => ({ 'syncline-signature': signWebhookBody(s, body, t) });

    const refused = [
      await post('/syncline/webhooks', batch),
      await post('/syncline/webhooks', batch, sign(batch, 'another-secret-0123456789abcdef')),
      await post('/syncline/webhooks', batch, sign(batch, secret, now - 600)), // a replay, 10 minutes late
      await post('/syncline/webhooks', `${batch} `, sign(batch)), // a body changed after signing
    ];
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401]);

    expect(await post('/syncline/webhooks', batch, sign(batch))).toEqual({
      status: 200,
      json: { received: 2, new: 1 },
    });
    expect((await post('/syncline/webhooks', batch, sign(batch))).json).toEqual({ received: 2, new: 0 });
    const ada = sdk({ user: 'ada', password: 'lovelace' });
    expect(await ada.rpc('lastSeen', { user: 'grace' })).toEqual({
      user: 'grace',
      lastSeen: '2099-01-01T00:00:00.000Z',
      channel: 'online:everyone',
    });
  });

  it('refuses oversized bodies and unsigned proxy requests', async () => {
    expect((await postOversized('/syncline/webhooks', 2 * 1024 * 1024)).status).toBe(413);
    const connect = await postOversized('/syncline/connect', 100_000);
    expect(connect.status).toBe(413);
    expect(connect.json).toMatchObject({ error: { code: 'limit_exceeded' } });
    const unsigned = await post('/syncline/connect', { data: { user: 'ada', password: 'lovelace' } });
    expect(unsigned).toEqual({
      status: 401,
      json: { error: { code: 'unauthorized', message: 'Bad or missing Syncline-Signature.' } },
    });
    expect(committed.proxy.secret.length).toBeGreaterThanOrEqual(32);
  });

  it('runs the chat: chat.config.ts is syncline.config.json plus the chat documents, and a session may use them', async () => {
    const url = await children.syncline(
      ['--dev', '--port', '0', '--data', join(dir, 'chat'), '--config', join(EXAMPLE, 'chat.config.ts')],
      childEnv({ PYTHON_BACKEND_URL: backendUrl }),
    );
    // With `auth` in the config there are no dev tokens, even in dev mode: the backend is the way in.
    expect((await fetch(`${url}/dev/token`, { method: 'POST', body: '{"name":"x"}' })).status).toBe(404);

    const { session } = await login('ada', 'lovelace');
    const ada = sdk({ session }, url);
    const lobby = ada.doc<typeof lobbyMutators, LobbyDoc>('lobby:main', { mutators: lobbyMutators });
    await lobby.ready;
    await lobby.mutate.createRoom({ id: 'py', name: 'Python' });
    const room = ada.doc<typeof roomMutators, RoomDoc>('room:py', { mutators: roomMutators });
    await room.ready;
    await room.mutate.send({ id: 'm1', text: 'hello from the Python backend' });
    await waitFor(() => room.confirmed?.messages.length === 1);
    expect(room.confirmed?.messages[0]).toMatchObject({ user: 'ada', text: 'hello from the Python backend' });
    await waitFor(() => lobby.confirmed?.rooms.some((r) => r.id === 'py') === true);
    await ada.presence('here:py').enter({ typing: false });
    await ada.presence('online:everyone').enter({ room: 'py' });
  });

  it("docs/webhooks.md's Python recipe accepts Syncline's signatures and refuses bad ones without raising", () => {
    const recipe = codeBlocks('docs/webhooks.md').find((b) => b.lang === 'python');
    expect(recipe, 'docs/webhooks.md has a ```python block').toBeDefined();
    const secret = 'recipe-secret-0123456789';
    const body = '{"id":"evt_1"}';
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, boolean]> = [
      [signWebhookBody(secret, body, now), true],
      [signWebhookBody(secret, body, now - 600), false],
      [signWebhookBody('another-secret-0123456789', body, now), false],
      [`t=${now},v1=é`, false],
      [`t=²,v1=ab`, false],
      ['garbage', false],
    ];
    const check = cases
      .map(
        ([header, want]) =>
          `assert verify(${JSON.stringify(body)}.encode(), ${JSON.stringify(header)}, ${JSON.stringify(secret)}) is ${want ? 'True' : 'False'}, ${JSON.stringify(header)}`,
      )
      .join('\n');
    const run = spawnSync(PYTHON, ['-c', `${recipe?.code}\n${check}\n`], { env: childEnv(), encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
  });

  it('passes its Python unit tests', () => {
    const run = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', EXAMPLE], { env: childEnv(), encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
  });
});
