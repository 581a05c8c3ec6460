import { MAX_NAME_LENGTH } from '@syncline/protocol';
import * as v from 'valibot';
import { validate } from '../http/api-request.js';
import type { ApiRoute } from '../http/api-route.js';
import { docReadRoutes, storeRead } from './doc-read-routes.js';
import type { DocsApi } from './docs-api.js';

/** Largest body of `POST /v1/docs/:name/mutate`, bytes. */
export const MAX_MUTATE_BODY_BYTES = 1024 * 1024;

/** A document name `namespace:name` in a path (its syntax and namespace are checked after parsing). */
export const ApiDocName = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(MAX_NAME_LENGTH),
  v.description('Document name `namespace:name`.'),
);

/** Body of `POST /v1/docs/{name}/mutate`. */
export const DocMutateBody = v.pipe(
  v.object({
    name: v.pipe(v.string(), v.minLength(1), v.maxLength(100), v.description('Mutator name.')),
    args: v.optional(
      v.pipe(v.unknown(), v.description("The mutator's arguments (any JSON value, checked by its schema).")),
    ),
    clientId: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9_-]{8,64}$/, 'expected 8 to 64 characters of A-Z a-z 0-9 _ -'),
        v.description('With `mutationId`: makes the mutation exactly-once (a resend is acknowledged as a duplicate).'),
      ),
    ),
    mutationId: v.optional(
      v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.description('Positive integer, increasing per `clientId`.')),
    ),
    userId: v.optional(
      v.pipe(v.string(), v.maxLength(255), v.description('User on whose behalf the mutation runs (`tx.userId`).')),
    ),
  }),
  v.forward(
    v.partialCheck(
      [['clientId'], ['mutationId']],
      (b) => (b.clientId === undefined) === (b.mutationId === undefined),
      'give both clientId and mutationId, or neither',
    ),
    ['mutationId'],
  ),
);

/** Response of `GET /v1/docs/{name}`. */
export const DocResponse = v.object({
  doc: v.string(),
  version: v.pipe(v.number(), v.integer(), v.minValue(0)),
  state: v.pipe(v.unknown(), v.description('The document state (JSON).')),
  schemaVersion: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(1),
    v.description("Schema version of `state` (the namespace's `schemaVersion`: loading migrates to it)."),
  ),
  clients: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0),
    v.description(
      'Clients whose last mutation id the store keeps for this document (they mutated it within `clientRetentionMs`).',
    ),
  ),
});

/** Response of `POST /v1/docs/{name}/mutate`. */
export const DocMutateResponse = v.object({
  doc: v.string(),
  version: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0),
    v.description('Version after the mutation (for a duplicate: the current version).'),
  ),
  duplicate: v.optional(v.pipe(v.boolean(), v.description('True when this mutation id was applied before.'))),
});

/**
 * Document routes of the HTTP API (API key required), part of its route
 * table and OpenAPI document: `GET /v1/docs/{name}` → `{ doc, version, state, schemaVersion, clients }`
 * and `POST /v1/docs/{name}/mutate` with
 * `{ name, args?, clientId?, mutationId?, userId? }` → `{ doc, version, duplicate? }`.
 * A mutation is ordered, persisted and broadcast like a client's, and is not
 * rate limited per connection. The list of documents and their ops are in
 * `docReadRoutes`.
 */
export function docRoutes(docs: Pick<DocsApi, 'get' | 'mutate' | 'store' | 'namespaces'>): ApiRoute[] {
  return [
    ...docReadRoutes(docs),
    {
      method: 'GET',
      path: '/v1/docs/:name',
      operationId: 'getDocument',
      summary: 'Current version and state of a document (loaded when needed).',
      params: { name: ApiDocName },
      response: DocResponse,
      errors: ['invalid_request', 'bad_channel', 'unknown_namespace', 'unavailable'],
      handle: async ({ params }) => {
        const doc = validate(ApiDocName, params.name, 'path');
        const { version, state, schemaVersion } = await docs.get(doc);
        const clients = await storeRead(docs.store.countClients(doc));
        return { doc, version, state, schemaVersion, clients };
      },
    },
    {
      method: 'POST',
      path: '/v1/docs/:name/mutate',
      operationId: 'mutateDocument',
      summary:
        'Run a mutator on a document; ordered, persisted and broadcast like a client mutation (exactly-once with `clientId` and `mutationId`).',
      params: { name: ApiDocName },
      body: DocMutateBody,
      maxBodyBytes: MAX_MUTATE_BODY_BYTES,
      response: DocMutateResponse,
      errors: [
        'invalid_request',
        'bad_channel',
        'unknown_namespace',
        'unknown_mutator',
        'invalid_args',
        'mutation_failed',
        'mutation_timeout',
        'schema_violation',
        'doc_too_large',
        'frame_too_large',
        'unavailable',
      ],
      handle: async ({ params, body }) => {
        const doc = validate(ApiDocName, params.name, 'path');
        const b = body as v.InferOutput<typeof DocMutateBody>;
        const result = await docs.mutate(doc, b.name, b.args, {
          clientId: b.clientId,
          mutationId: b.mutationId,
          userId: b.userId,
        });
        return { doc, ...result };
      },
    },
  ];
}
