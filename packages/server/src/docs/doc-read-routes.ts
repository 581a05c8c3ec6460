import { MAX_NAME_LENGTH, SynclineError } from '@syncline/protocol';
import * as v from 'valibot';
import { limitParam } from '../http/api-params.js';
import { validate } from '../http/api-request.js';
import type { ApiRoute } from '../http/api-route.js';
import type { StoredOp } from './doc-store.js';
import type { DocsApi } from './docs-api.js';

/** Most documents on one page of `GET /v1/docs`. */
export const MAX_DOCS_PAGE = 1_000;
/** Most ops on one page of `GET /v1/docs/{name}/ops`. */
export const MAX_OPS_PAGE = 100;
/** A page of ops ends early once the JSON of its patches and arguments passes this many bytes (it always holds one op). */
export const MAX_OPS_PAGE_BYTES = 1024 * 1024;

const Digits = v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'Expected a non-negative integer.'));
const Name = v.pipe(v.string(), v.maxLength(MAX_NAME_LENGTH));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** `GET /v1/docs` query. */
export const DocsQuery = v.strictObject({
  namespace: v.optional(v.pipe(Name, v.minLength(1), v.description('Only documents of this namespace.'))),
  prefix: v.optional(v.pipe(Name, v.description('Only documents whose full name starts with it.'))),
  after: v.optional(v.pipe(Name, v.description('Only documents sorted after this name: the `next` of a page.'))),
  limit: v.optional(v.pipe(Digits, v.description(`Page size, 1–${MAX_DOCS_PAGE}; default 100.`))),
});

/** Response of `GET /v1/docs`. */
export const DocsResponse = v.object({
  docs: v.array(
    v.object({
      doc: v.string(),
      version: Count,
      updatedAt: v.pipe(Count, v.description('Time of the latest commit, ms since the epoch.')),
    }),
  ),
  next: v.optional(
    v.pipe(v.string(), v.description('Pass as `after` to read the next page; absent on the last page.')),
  ),
});

/** `GET /v1/docs/{name}/ops` query. */
export const DocOpsQuery = v.strictObject({
  before: v.optional(
    v.pipe(Digits, v.description('Only ops with a version below it (exclusive); default: the newest.')),
  ),
  limit: v.optional(v.pipe(Digits, v.description(`Page size, 1–${MAX_OPS_PAGE}; default 20.`))),
});

/** Response of `GET /v1/docs/{name}/ops`. */
export const DocOpsResponse = v.object({
  doc: v.string(),
  ops: v.array(
    v.object({
      version: Count,
      ts: v.pipe(Count, v.description('Commit time, ms since the epoch.')),
      userId: v.optional(v.pipe(v.string(), v.description('`tx.userId` of the mutation.'))),
      clientId: v.optional(v.string()),
      mutationId: v.optional(Count),
      schemaVersion: v.optional(Count),
      mutator: v.optional(v.pipe(v.string(), v.description('Name of the mutator (absent for a schema migration).'))),
      args: v.optional(
        v.pipe(v.unknown(), v.description('Its arguments, kept when their JSON is at most 4 KiB (see `argsBytes`).')),
      ),
      argsBytes: v.optional(v.pipe(Count, v.description("Size of the arguments' JSON, kept or not."))),
      patches: v.pipe(v.array(v.unknown()), v.description('What the mutation changed (JSON patches).')),
    }),
  ),
  prev: v.optional(
    v.pipe(Count, v.description('Pass as `before` to read older ops; absent when the log keeps none older.')),
  ),
});

/** A store read: its failures are `unavailable` (retryable), never `internal`. */
export async function storeRead<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof SynclineError) throw err;
    throw new SynclineError('unavailable', 'Document storage is unavailable; retry shortly.', {
      cause: err,
      retryAfterMs: 1_000,
    });
  }
}

/** The prefix a listing reads: `namespace:` and `prefix` together, or undefined when no name can match both. */
function listingPrefix(namespace: string | undefined, prefix: string | undefined): string | undefined {
  const ns = namespace === undefined ? '' : `${namespace}:`;
  const p = prefix ?? '';
  if (p.startsWith(ns)) return p;
  return ns.startsWith(p) ? ns : undefined;
}

/** One page of ops as the API shows them, newest first, cut at `MAX_OPS_PAGE_BYTES` of patches and arguments. */
function opsPage(doc: string, ops: readonly StoredOp[], limit: number) {
  const shown: StoredOp[] = [];
  let bytes = 0;
  for (const op of ops.slice(0, limit)) {
    bytes += JSON.stringify(op.patches).length + (op.args === undefined ? 0 : (op.argsBytes ?? 0));
    if (shown.length > 0 && bytes > MAX_OPS_PAGE_BYTES) break;
    shown.push(op);
  }
  const oldest = shown[shown.length - 1];
  const more = ops.length > shown.length;
  return {
    doc,
    ops: shown.map(({ patches, ...rest }) => ({ ...rest, patches })),
    ...(more && oldest !== undefined ? { prev: oldest.version } : {}),
  };
}

/** The read side of documents in the HTTP API: the stored documents by name, and a document's recent ops. */
export function docReadRoutes(docs: Pick<DocsApi, 'store' | 'namespaces'>): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/docs',
      operationId: 'listDocuments',
      summary: 'Documents written at least once, sorted by name, paged.',
      query: DocsQuery,
      response: DocsResponse,
      errors: ['invalid_request', 'unknown_namespace', 'unavailable'],
      handle: async ({ query }) => {
        const q = query as v.InferOutput<typeof DocsQuery>;
        const limit = limitParam(q.limit, MAX_DOCS_PAGE, 100);
        if (q.namespace !== undefined && !docs.namespaces.has(q.namespace)) {
          throw new SynclineError('unknown_namespace', `No document namespace "${q.namespace.slice(0, 80)}".`, {
            details: { path: 'namespace', in: 'query' },
          });
        }
        const prefix = listingPrefix(q.namespace, q.prefix);
        if (prefix === undefined) return { docs: [] };
        const rows = await storeRead(docs.store.listDocs({ prefix, after: q.after, limit: limit + 1 }));
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        return rows.length > limit && last !== undefined ? { docs: page, next: last.doc } : { docs: page };
      },
    },
    {
      method: 'GET',
      path: '/v1/docs/:name/ops',
      operationId: 'documentOps',
      summary: "A document's ops still in its log (kept for clients catching up), newest first, paged.",
      params: { name: Name },
      query: DocOpsQuery,
      response: DocOpsResponse,
      errors: ['invalid_request', 'bad_channel', 'unknown_namespace', 'unavailable'],
      handle: async ({ params, query }) => {
        const doc = validate(v.pipe(Name, v.minLength(1)), params.name, 'path');
        docs.namespaces.forDoc(doc);
        const q = query as v.InferOutput<typeof DocOpsQuery>;
        const limit = limitParam(q.limit, MAX_OPS_PAGE, 20);
        const before = q.before === undefined ? Number.MAX_SAFE_INTEGER : Number(q.before);
        const ops = await storeRead(docs.store.opsBefore(doc, before, limit + 1));
        return opsPage(doc, ops, limit);
      },
    },
  ];
}
