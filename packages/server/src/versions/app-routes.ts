import { type AppVersionConfig, isAppVersion, SynclineError } from '@syncline/protocol';
import * as v from 'valibot';
import type { ApiRoute } from '../http/api-route.js';
import type { AppAnnounceResult } from './app-versions.js';
import { type ClientVersions, DEFAULT_CLIENT_VERSIONS_LIMIT, MAX_CLIENT_VERSIONS } from './client-versions.js';

const AppVersion = v.pipe(
  v.string(),
  v.maxLength(100),
  v.check(isAppVersion, 'expected a dotted numeric version like "2.4.0"'),
);

/** Body of `POST /v1/app/announce`. */
export const AnnounceBody = v.object({
  version: AppVersion,
  minClientVersion: v.optional(AppVersion),
  recommendedClientVersion: v.optional(AppVersion),
  message: v.optional(v.pipe(v.string(), v.maxLength(1000))),
});

/** The app version settings in force. */
const AppConfig = v.object({
  version: v.string(),
  minClientVersion: v.optional(v.string()),
  recommendedClientVersion: v.optional(v.string()),
  message: v.optional(v.string()),
});

/** Response of `GET /v1/app`. */
export const AppResponse = v.object({ app: v.nullable(AppConfig) });

/** Response of `POST /v1/app/announce`. */
export const AnnounceResponse = v.object({
  version: v.optional(v.string()),
  notified: v.pipe(v.number(), v.integer(), v.description('Connected sessions pushed an `update` (verdict changed).')),
  sessions: v.pipe(
    v.object({ none: v.number(), available: v.number(), required: v.number() }),
    v.description('Connected sessions by verdict, after the change.'),
  ),
});

const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Status = v.picklist(['none', 'available', 'required']);

/** `GET /v1/app/clients` query. */
export const ClientVersionsQuery = v.strictObject({
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,15}$/, 'Expected a non-negative integer.'),
      v.description(`App versions listed, 1–${MAX_CLIENT_VERSIONS}; default ${DEFAULT_CLIENT_VERSIONS_LIMIT}.`),
    ),
  ),
});

/** Response of `GET /v1/app/clients`. */
export const ClientVersionsResponse = v.object({
  versions: v.pipe(
    v.array(
      v.object({
        version: v.pipe(v.nullable(v.string()), v.description('App version the clients sent (null: none sent).')),
        connections: Count,
        status: v.pipe(Status, v.description('Verdict of the settings in force: `none` is current.')),
      }),
    ),
    v.description('The most used app versions first.'),
  ),
  connections: v.pipe(Count, v.description('Connected clients counted, on every node that answered.')),
  unlisted: v.pipe(Count, v.description('Of which on app versions not listed (past `limit`).')),
  byStatus: v.pipe(
    v.object({ none: Count, available: Count, required: Count }),
    v.description('Connections by verdict, listed or not.'),
  ),
  nodes: v.object({ answered: Count, expected: Count }),
  partial: v.pipe(v.boolean(), v.description('True when a live node did not answer in time: counts may be short.')),
});

const MAX_ANNOUNCE_BODY_BYTES = 8 * 1024;

/** What the app version routes use of the server: the settings in force and the announce. */
export interface AppVersionService {
  /** The app version settings in force (undefined: none). */
  readonly app: AppVersionConfig | undefined;
  /** Announces new app version settings on every node; resolves with what changed on this node. */
  setAppVersion(config: AppVersionConfig): Promise<AppAnnounceResult>;
  /** Connected clients by app version on every node, with the verdict on each. */
  readonly clientVersions: Pick<ClientVersions, 'list'>;
}

/**
 * App version routes of the HTTP API (API key required), part of its route
 * table and OpenAPI document:
 * `GET /v1/app` → the settings in force (`{ app: … | null }`);
 * `POST /v1/app/announce` with `{ version, minClientVersion?, recommendedClientVersion?, message? }`
 * → `{ version, notified, sessions }`: every node judges its connected
 * clients again and pushes `update` to those whose verdict changed;
 * `GET /v1/app/clients?limit=` → connected clients by app version on every
 * node, each version with its verdict.
 */
export function appRoutes(server: AppVersionService): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/app',
      operationId: 'getAppVersion',
      summary: 'The app version settings in force (`null` when none are configured).',
      response: AppResponse,
      errors: [],
      handle: () => ({ app: server.app ?? null }),
    },
    {
      method: 'GET',
      path: '/v1/app/clients',
      operationId: 'listClientVersions',
      summary:
        'Connected clients by app version on every node, the most used first, each with the verdict of the settings in force.',
      query: ClientVersionsQuery,
      response: ClientVersionsResponse,
      errors: ['invalid_request'],
      handle: ({ query }) => {
        const q = query as v.InferOutput<typeof ClientVersionsQuery>;
        const limit = q.limit === undefined ? DEFAULT_CLIENT_VERSIONS_LIMIT : Number(q.limit);
        if (limit < 1 || limit > MAX_CLIENT_VERSIONS) {
          throw new SynclineError(
            'invalid_request',
            `Invalid query at "limit": expected 1 to ${MAX_CLIENT_VERSIONS}.`,
            {
              details: { path: 'limit', in: 'query', limit: MAX_CLIENT_VERSIONS },
            },
          );
        }
        return server.clientVersions.list(limit);
      },
    },
    {
      method: 'POST',
      path: '/v1/app/announce',
      operationId: 'announceAppVersion',
      summary:
        'Announce a new app version to every node: connected clients are judged again and those whose verdict changed get an `update` push.',
      body: AnnounceBody,
      maxBodyBytes: MAX_ANNOUNCE_BODY_BYTES,
      response: AnnounceResponse,
      errors: ['invalid_request', 'frame_too_large'],
      handle: async ({ body }) => {
        const b = body as v.InferOutput<typeof AnnounceBody>;
        const config: { -readonly [K in keyof AppVersionConfig]: AppVersionConfig[K] } = { version: b.version };
        if (b.minClientVersion !== undefined) config.minClientVersion = b.minClientVersion;
        if (b.recommendedClientVersion !== undefined) config.recommendedClientVersion = b.recommendedClientVersion;
        if (b.message !== undefined) config.message = b.message;
        return server.setAppVersion(config);
      },
    },
  ];
}
