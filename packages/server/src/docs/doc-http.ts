import { SynclineError } from '@syncline/protocol';
import { requireApiKey } from '../http/api-auth.js';
import { assertJsonDepth } from '../http/api-request.js';
import { type HttpRouter, readBody, sendJson } from '../http/router.js';
import type { DocsApi } from './docs-api.js';

/** Largest body of `POST /v1/docs/:name/mutate`. */
export const MAX_MUTATE_BODY_BYTES = 1024 * 1024;

const CLIENT_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;

interface MutateBody {
  readonly name: string;
  readonly args: unknown;
  readonly clientId: string | undefined;
  readonly mutationId: number | undefined;
  readonly userId: string | undefined;
}

function bad(path: string, message: string): SynclineError {
  return new SynclineError('invalid_command', `Invalid mutate body at "${path}": ${message}`, { details: { path } });
}

function parseMutateBody(body: unknown): MutateBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SynclineError('invalid_command', 'The request body must be a JSON object.');
  }
  const b = body as Record<string, unknown>;
  if (typeof b.name !== 'string' || b.name.length === 0 || b.name.length > 100) {
    throw bad('name', 'a mutator name of 1 to 100 characters is required.');
  }
  if (b.clientId !== undefined && (typeof b.clientId !== 'string' || !CLIENT_ID_RE.test(b.clientId))) {
    throw bad('clientId', 'expected 8 to 64 characters of A-Z a-z 0-9 _ -.');
  }
  if (
    b.mutationId !== undefined &&
    (typeof b.mutationId !== 'number' || !Number.isSafeInteger(b.mutationId) || b.mutationId < 1)
  ) {
    throw bad('mutationId', 'expected a positive integer.');
  }
  if (b.userId !== undefined && (typeof b.userId !== 'string' || b.userId.length > 255)) {
    throw bad('userId', 'expected a string of at most 255 characters.');
  }
  if ((b.clientId === undefined) !== (b.mutationId === undefined)) {
    throw new SynclineError('invalid_command', 'Give both clientId and mutationId, or neither.');
  }
  return {
    name: b.name,
    args: b.args,
    clientId: b.clientId as string | undefined,
    mutationId: b.mutationId as number | undefined,
    userId: b.userId as string | undefined,
  };
}

/**
 * Adds the document routes of the HTTP API (API key required):
 * `GET /v1/docs/:name` → `{ doc, version, state }` and
 * `POST /v1/docs/:name/mutate` with `{ name, args, clientId?, mutationId?, userId? }`
 * → `{ doc, version, duplicate? }`.
 */
export function registerDocRoutes(router: HttpRouter, docs: DocsApi, apiKey: () => string | undefined): void {
  router.add('GET', '/v1/docs/:name', async (req, res, params) => {
    requireApiKey(req, apiKey());
    const doc = params.name as string;
    const { version, state } = await docs.get(doc);
    sendJson(res, 200, { doc, version, state });
  });

  router.add('POST', '/v1/docs/:name/mutate', async (req, res, params) => {
    requireApiKey(req, apiKey());
    const doc = params.name as string;
    const raw = await readBody(req, MAX_MUTATE_BODY_BYTES);
    let body: unknown;
    const text = raw.toString('utf8');
    try {
      body = JSON.parse(text);
    } catch {
      throw new SynclineError('invalid_command', 'The request body is not JSON.');
    }
    assertJsonDepth(body, text.length);
    const b = parseMutateBody(body);
    const result = await docs.mutate(doc, b.name, b.args, {
      clientId: b.clientId,
      mutationId: b.mutationId,
      userId: b.userId,
    });
    sendJson(res, 200, { doc, ...result });
  });
}
